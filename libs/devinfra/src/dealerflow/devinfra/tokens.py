"""Bearer tokens for in-process service tests: one ES256 key per test process.

Service tests run many apps in one process; they all trust this key's JWKS (a temporary
``file://`` JWKS that :func:`tokens_auth_settings` points every test service at), and their
HTTP clients send :func:`auth_header` headers. The development issuer of the dev and test
profiles (``dealerflow-auth``) is the one the running stack, the demo and the e2e tests use.
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["TEST_AUDIENCE", "TEST_ISSUER", "auth_header", "token_for", "tokens_auth_settings"]

TEST_ISSUER = "https://issuer.dealerflow.local/tests"
TEST_AUDIENCE = "dealerflow"
_KID = "dealerflow-tests"


@functools.cache
def _key() -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": _KID, "use": "sig", "alg": "ES256"})
    folder = Path(tempfile.mkdtemp(prefix="dealerflow-test-jwks-"))
    path = folder / "jwks.json"
    path.write_text(json.dumps({"keys": [public]}), "utf-8")
    return key, path


def tokens_auth_settings() -> dict[str, Any]:
    """The auth settings a test service trusts this process's key with."""
    return {
        "auth_issuer": TEST_ISSUER,
        "auth_audience": TEST_AUDIENCE,
        "auth_jwks_url": _key()[1].as_uri(),
    }


def token_for(
    *,
    roles: Iterable[str] = ("admin",),
    dealers: Iterable[str] = ("*",),
    sub: str = "test-admin",
    dealer_group: str | None = None,
    ttl_s: int = 3600,
    **claims: Any,
) -> str:
    """A token of this process's key (default: an admin for every dealer)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "roles": list(roles),
        "dealers": list(dealers),
        **claims,
    }
    if dealer_group:
        payload["dealer_group"] = dealer_group
    return jwt.encode(payload, _key()[0], algorithm="ES256", headers={"kid": _KID})


def auth_header(**token_args: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer <token_for(**token_args)>"}``."""
    return {"Authorization": f"Bearer {token_for(**token_args)}"}
