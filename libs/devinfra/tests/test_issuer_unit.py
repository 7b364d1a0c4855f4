"""The local token issuer: its keys on disk, their kids, rotation, and tokens that verify
the way the services verify them (the key picked by kid from the JWKS at the configured
URL, pinned algorithms, audience and issuer checked).

PyJWT 2.15's ``PyJWKClient`` refuses ``file://`` URLs, so the file is read into a
``PyJWKSet`` here; ``test_auth_cli_unit`` verifies through ``PyJWKClient`` over HTTP
(``dealerflow-auth serve``).
"""

from __future__ import annotations

import json
import stat
import threading
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from dealerflow.devinfra.config import InfraError, resolve_config
from dealerflow.devinfra.issuer import DevIssuer, default_issuer, jwk_thumbprint


class UnknownKid(LookupError):
    """The token's kid is not in the JWKS."""


def verify(source: DevIssuer, token: str, **options: Any) -> dict[str, Any]:
    """Verify like a service: key by kid from the JWKS URL, ES256/RS256 only, aud and iss."""
    url = urllib.parse.urlparse(source.jwks_url)
    assert url.scheme == "file"
    jwks = jwt.PyJWKSet.from_dict(
        json.loads(Path(urllib.request.url2pathname(url.path)).read_text())
    )
    kid = jwt.get_unverified_header(token)["kid"]
    key = next((k for k in jwks.keys if k.key_id == kid), None)
    if key is None:
        raise UnknownKid(kid)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["ES256", "RS256"],
        audience=options.get("audience", "dealerflow"),
        issuer=options.get("issuer", source.issuer),
    )
    return dict(claims)


def test_the_key_is_created_once_kept_private_and_found_again(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path / "auth")
    assert not (tmp_path / "auth").exists()  # nothing on disk before first use
    kid = issuer.ensure()
    pem = tmp_path / "auth" / "keys" / f"{kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "auth").stat().st_mode) == 0o700
    assert pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    # Another process (a new instance) finds the same key instead of making one.
    assert DevIssuer(tmp_path / "auth").ensure() == kid
    assert [p.name for p in (tmp_path / "auth" / "keys").iterdir()] == [f"{kid}.pem"]


def test_the_jwks_publishes_only_the_public_key_under_its_thumbprint(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path)
    (key,) = issuer.jwks()["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}  # no private "d"
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"] == jwk_thumbprint(key) == issuer.current_kid
    assert issuer.jwks_url == issuer.jwks_path.as_uri()
    assert issuer.jwks_url.startswith("file:///")


def test_the_thumbprint_is_rfc_7638s() -> None:
    # RFC 7638, section 3.1: the example RSA key and its thumbprint.
    rfc_key = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxu"
        "hDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
        "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI"
        "SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEg"
        "U8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(rfc_key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    with pytest.raises(ValueError, match="key type"):
        jwk_thumbprint({"kty": "oct", "k": "c2VjcmV0"})


def test_a_token_verifies_against_the_jwks_file_with_the_claims_asked_for(
    tmp_path: Path,
) -> None:
    issuer = DevIssuer.for_profile("test", home=tmp_path)
    token = issuer.token(sub="consultant-li", roles=["consultant"], dealers=["D001"])
    assert jwt.get_unverified_header(token) == {
        "alg": "ES256",
        "kid": issuer.current_kid,
        "typ": "JWT",
    }
    claims = verify(issuer, token)
    assert claims["iss"] == "https://issuer.dealerflow.local/test"
    assert claims["aud"] == "dealerflow"
    assert (claims["sub"], claims["roles"], claims["dealers"]) == (
        "consultant-li",
        ["consultant"],
        ["D001"],
    )
    assert "dealer_group" not in claims
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 3600
    grouped = issuer.token(sub="gm-wu", roles=["gm"], dealer_group="east", ttl_s=60)
    claims = verify(issuer, grouped)
    assert (claims["dealers"], claims["dealer_group"]) == ([], "east")
    assert claims["exp"] - claims["iat"] == 60


def test_tokens_for_other_audiences_issuers_or_times_are_refused(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path)
    other_audience = issuer.token(sub="s", roles=["admin"], dealers=["*"], audience="billing")
    with pytest.raises(jwt.InvalidAudienceError):
        verify(issuer, other_audience)
    assert verify(issuer, other_audience, audience="billing")["dealers"] == ["*"]
    other_issuer = issuer.token(sub="s", roles=["admin"], issuer="https://elsewhere")
    with pytest.raises(jwt.InvalidIssuerError):
        verify(issuer, other_issuer)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    expired = issuer.token(sub="s", roles=["admin"], now=two_hours_ago, ttl_s=60)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(issuer, expired)
    not_yet = issuer.token(sub="s", roles=["admin"], now=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(jwt.ImmatureSignatureError):
        verify(issuer, not_yet)
    both = issuer.token(sub="s", roles=["admin"], audience=["dealerflow", "console"])
    assert verify(issuer, both)["aud"] == ["dealerflow", "console"]
    odd = issuer.token(sub="s", roles=["admin"], extra_claims={"roles": "admin", "x": 1})
    assert verify(issuer, odd)["roles"] == "admin"  # tests can craft malformed claims


def test_rotation_keeps_the_previous_key_verifiable_until_it_is_retired(
    tmp_path: Path,
) -> None:
    issuer = DevIssuer(tmp_path)
    old_kid = issuer.ensure()
    before = issuer.token(sub="advisor-zhao", roles=["advisor"], dealers=["D001"])
    new_kid = DevIssuer(tmp_path).rotate()  # e.g. `dealerflow-auth rotate` elsewhere
    assert new_kid != old_kid
    assert issuer.current_kid == new_kid  # the running issuer sees the rotation
    assert issuer.published_kids == [new_kid, old_kid]
    after = issuer.token(sub="advisor-zhao", roles=["advisor"], dealers=["D001"])
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert verify(issuer, before)["sub"] == "advisor-zhao"
    assert verify(issuer, after)["sub"] == "advisor-zhao"
    # An explicit kid signs with a published older key.
    assert jwt.get_unverified_header(issuer.token(sub="s", roles=[], kid=old_kid))["kid"] == (
        old_kid
    )

    assert issuer.retire() == [old_kid]
    assert [k["kid"] for k in issuer.jwks()["keys"]] == [new_kid]
    assert not (tmp_path / "keys" / f"{old_kid}.pem").exists()
    with pytest.raises(UnknownKid):
        verify(issuer, before)
    assert verify(issuer, after)["sub"] == "advisor-zhao"
    assert issuer.retire() == []
    with pytest.raises(InfraError, match="no signing key"):
        issuer.token(sub="s", roles=[], kid=old_kid)


def test_concurrent_first_uses_create_one_key(tmp_path: Path) -> None:
    kids: list[str] = []
    start = threading.Barrier(8)

    def first_use() -> None:
        start.wait()
        kids.append(DevIssuer(tmp_path).ensure())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1
    assert len(list((tmp_path / "keys").iterdir())) == 1
    assert len(DevIssuer(tmp_path).jwks()["keys"]) == 1


def test_a_lost_jwks_is_rewritten_from_the_keys(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path)
    kid = issuer.ensure()
    issuer.rotate()
    issuer.jwks_path.unlink()
    assert len(DevIssuer(tmp_path).jwks()["keys"]) == 2
    assert kid in issuer.published_kids


def test_profiles_keep_their_issuers_apart(tmp_path: Path) -> None:
    dev = DevIssuer.for_profile("dev", home=tmp_path)
    test = DevIssuer.for_profile("test", home=tmp_path)
    assert dev.directory == tmp_path.resolve() / "dev" / "auth"
    assert test.directory == tmp_path.resolve() / "test" / "auth"
    assert (dev.issuer, test.issuer) == (default_issuer("dev"), default_issuer("test"))
    assert dev.issuer == "https://issuer.dealerflow.local/dev"
    from_env = DevIssuer.for_profile("test", env={"DEALERFLOW_HOME": str(tmp_path)})
    assert from_env.directory == test.directory
    cfg = resolve_config("test", env={}, home=tmp_path)
    assert DevIssuer.for_config(cfg) == test
    assert test.environment() == {
        "DEALERFLOW_AUTH_ISSUER": "https://issuer.dealerflow.local/test",
        "DEALERFLOW_AUTH_AUDIENCE": "dealerflow",
        "DEALERFLOW_AUTH_JWKS_URL": (tmp_path.resolve() / "test/auth/jwks.json").as_uri(),
    }
    token = dev.token(sub="s", roles=["gm"], dealers=["D001"])
    test.ensure()
    with pytest.raises(UnknownKid):  # the test JWKS does not know dev's key
        verify(test, token, issuer=dev.issuer)
    with pytest.raises(InfraError, match="unknown profile"):
        DevIssuer.for_profile("prod", home=tmp_path)
