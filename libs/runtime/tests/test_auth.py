"""Bearer-token verification (dealerflow.runtime.auth) against a real key set on disk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import APIRouter, Body

from dealerflow.devinfra.issuer import DevIssuer
from dealerflow.runtime import auth
from dealerflow.runtime.auth import (
    AuthenticationFailed,
    Principal,
    Role,
    TokenVerifier,
    allow,
    principal_of,
)
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.settings import ServiceSettings

ISSUER = "https://issuer.dealerflow.local/auth-tests"


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    found = DevIssuer(tmp_path / "auth", ISSUER)
    found.ensure()
    return found


def verifier(issuer: DevIssuer, **kw: Any) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, audience="dealerflow", jwks_url=issuer.jwks_url, leeway_s=5, **kw
    )


def test_a_token_of_the_issuer_gives_its_principal(issuer: DevIssuer) -> None:
    token = issuer.token(
        sub="c-wang", roles=["consultant", "sales-manager"], dealers=["D1"], dealer_group="G1"
    )
    principal = verifier(issuer).verify_sync(token)
    assert principal == Principal(
        "c-wang", frozenset({Role.CONSULTANT, Role.SALES_MANAGER}), frozenset({"D1"}), "G1"
    )
    assert principal.covers("D1")
    assert not principal.covers("D2")
    assert principal.covers("D2", group_of="G1")


@pytest.mark.parametrize(
    "mutation",
    ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer", "no_exp", "no_sub"],
)
def test_claims_that_do_not_hold_are_refused(issuer: DevIssuer, mutation: str) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "c-wang", "roles": ["consultant"], "dealers": ["D1"]}
    extra: dict[str, Any] = {}
    token_args: dict[str, Any] = {}
    if mutation == "expired":
        token_args["now"] = now - timedelta(hours=2)
    elif mutation == "not_yet_valid":
        token_args["now"] = now + timedelta(hours=1)
    elif mutation == "wrong_audience":
        token_args["audience"] = "someone-else"
    elif mutation == "wrong_issuer":
        token_args["issuer"] = "https://evil.example/"
    elif mutation == "no_exp":
        extra["exp"] = None
    elif mutation == "no_sub":
        extra["sub"] = None
    token = issuer.token(**claims, **token_args, extra_claims=extra or None)
    with pytest.raises(AuthenticationFailed):
        verifier(issuer).verify_sync(token)


def test_none_and_hmac_algorithms_are_refused(issuer: DevIssuer) -> None:
    claims = issuer.claims(sub="c-wang", roles=["admin"], dealers=["*"])
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    # an HS256 token: a shared secret is never accepted, whatever it is
    hmac = jwt.encode(claims, "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256")
    for token in (unsigned, hmac):
        with pytest.raises(AuthenticationFailed, match="not accepted"):
            verifier(issuer).verify_sync(token)


def test_a_forged_signature_is_refused(issuer: DevIssuer, tmp_path: Path) -> None:
    stranger = DevIssuer(tmp_path / "stranger", ISSUER)
    stranger.ensure()
    token = stranger.token(sub="x", roles=["admin"], dealers=["*"])
    with pytest.raises(AuthenticationFailed):
        verifier(issuer).verify_sync(token)


def test_a_rotated_key_is_picked_up_without_a_restart(issuer: DevIssuer) -> None:
    check = verifier(issuer)
    old = issuer.token(sub="a", roles=["gm"], dealers=["D1"])
    assert check.verify_sync(old).subject == "a"
    issuer.rotate()
    new = issuer.token(sub="b", roles=["gm"], dealers=["D1"])
    assert check.verify_sync(new).subject == "b"
    assert check.verify_sync(old).subject == "a"  # the previous key is still published
    issuer.retire()
    with pytest.raises(AuthenticationFailed):
        check.verify_sync(old)


class CountedChecks:
    """Counts the signature checks a verifier runs (each is one thread hop)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = auth.asyncio.to_thread

        async def to_thread(func: Any, *args: Any) -> Any:
            self.count += 1
            return await real(func, *args)

        monkeypatch.setattr(auth.asyncio, "to_thread", to_thread)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> CountedChecks:
    return CountedChecks(monkeypatch)


async def test_a_verified_token_is_not_checked_again_while_it_holds(
    issuer: DevIssuer, checks: CountedChecks, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = verifier(issuer)
    token = issuer.token(sub="a", roles=["gm"], dealers=["D1"])
    principals = [await check.verify(token) for _ in range(3)]
    assert [p.subject for p in principals] == ["a"] * 3
    assert checks.count == 1
    other = issuer.token(sub="b", roles=["gm"], dealers=["D1"])
    assert (await check.verify(other)).subject == "b"
    assert checks.count == 2
    with pytest.raises(AuthenticationFailed):  # a refused token is never kept
        await check.verify(token + "x")
    with pytest.raises(AuthenticationFailed):
        await check.verify(token + "x")
    assert checks.count == 4

    # past exp + leeway the kept answer is not used: the token is checked again
    later = time.time() + 3600 + 10
    monkeypatch.setattr(auth.time, "time", lambda: later)
    await check.verify(token)
    assert checks.count == 5


async def test_a_retired_key_refuses_its_tokens_at_once_despite_the_cache(
    issuer: DevIssuer, checks: CountedChecks
) -> None:
    check = verifier(issuer)
    old = issuer.token(sub="a", roles=["gm"], dealers=["D1"])
    assert (await check.verify(old)).subject == "a"
    assert (await check.verify(old)).subject == "a"
    assert checks.count == 1
    issuer.rotate()  # the key set changed: every token is checked again, once
    assert (await check.verify(old)).subject == "a"
    assert (await check.verify(old)).subject == "a"
    assert checks.count == 2
    issuer.retire()
    with pytest.raises(AuthenticationFailed):
        await check.verify(old)


def test_malformed_claims_are_refused() -> None:
    with pytest.raises(AuthenticationFailed):
        principal_of({"sub": "x", "roles": "admin", "dealers": [1]})
    assert principal_of({"sub": "x", "roles": ["no-such-role", "gm"]}).roles == {Role.GM}


async def test_the_http_answers(issuer: DevIssuer) -> None:
    router = APIRouter(prefix="/v1")

    @router.get("/things", dependencies=[allow(Role.CONSULTANT)])
    async def things(dealer_id: str) -> dict[str, str]:
        return {"dealer_id": dealer_id}

    @router.post("/things", dependencies=[allow(Role.CONSULTANT)])
    async def create(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return body

    @router.get("/undeclared")
    async def undeclared() -> dict[str, str]:
        return {}

    settings = ServiceSettings(
        service_name="authtest",
        auth_issuer=ISSUER,
        auth_jwks_url=issuer.jwks_url,
        http_rate_limit_unauthenticated="",
    )
    app = create_http_app(title="t", version="1", settings=settings, routers=[router])

    def bearer(**kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.token(**kw)}"}

    consultant = bearer(sub="c1", roles=["consultant"], dealers=["D1"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        missing = await c.get("/v1/things", params={"dealer_id": "D1"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="dealerflow"'
        assert missing.headers["content-type"].startswith("application/problem+json")
        bad = await c.get(
            "/v1/things", params={"dealer_id": "D1"}, headers={"Authorization": "Bearer x.y.z"}
        )
        assert bad.status_code == 401
        assert 'error="invalid_token"' in bad.headers["www-authenticate"]
        ok = await c.get("/v1/things", params={"dealer_id": "D1"}, headers=consultant)
        assert ok.json() == {"dealer_id": "D1"}
        other = await c.get("/v1/things", params={"dealer_id": "D2"}, headers=consultant)
        assert other.status_code == 403
        assert other.json()["type"].endswith("/dealer-not-covered")
        in_body = await c.post("/v1/things", json={"dealer_id": "D2"}, headers=consultant)
        assert in_body.status_code == 403
        advisor = bearer(sub="a1", roles=["advisor"], dealers=["D1"])
        role = await c.get("/v1/things", params={"dealer_id": "D1"}, headers=advisor)
        assert role.status_code == 403
        assert role.json()["type"].endswith("/role-not-allowed")
        closed = await c.get("/v1/undeclared", headers=consultant)
        assert closed.status_code == 403  # an undeclared route is admin-only
        admin = bearer(sub="root", roles=["admin"], dealers=["*"])
        assert (await c.get("/v1/undeclared", headers=admin)).status_code == 200
        assert (await c.get("/healthz")).status_code == 200  # probes stay open
    operation = app.openapi()["paths"]["/v1/things"]["get"]
    assert operation["x-roles"] == ["consultant"]
    assert operation["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(operation["responses"])
