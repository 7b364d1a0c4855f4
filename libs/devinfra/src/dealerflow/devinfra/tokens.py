"""Bearer tokens for in-process service tests: one development issuer per test process.

Service tests run many apps in one process; they all trust the JWKS of a
:class:`~dealerflow.devinfra.issuer.DevIssuer` kept in a temporary folder
(:func:`tokens_auth_settings` points a test service at it), and their HTTP clients send
:func:`auth_header` headers. The dev and test profiles' issuer (``dealerflow-auth``) is the
one the running stack, the demo and the e2e tests use.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dealerflow.devinfra.issuer import DevIssuer

__all__ = ["TEST_ISSUER", "auth_header", "process_issuer", "token_for", "tokens_auth_settings"]

TEST_ISSUER = "https://issuer.dealerflow.local/tests"


@functools.cache
def process_issuer() -> DevIssuer:
    """This process's issuer (its key is created on first use)."""
    issuer = DevIssuer(Path(tempfile.mkdtemp(prefix="dealerflow-test-issuer-")), TEST_ISSUER)
    issuer.ensure()
    return issuer


def tokens_auth_settings() -> dict[str, Any]:
    """The auth settings with which a test service trusts this process's issuer."""
    issuer = process_issuer()
    return {
        "auth_issuer": issuer.issuer,
        "auth_audience": issuer.audience,
        "auth_jwks_url": issuer.jwks_url,
    }


def token_for(
    *,
    roles: Iterable[str] = ("admin",),
    dealers: Iterable[str] = ("*",),
    sub: str = "test-admin",
    dealer_group: str | None = None,
    ttl_s: int = 3600,
) -> str:
    """A token of this process's issuer (default: an admin for every dealer)."""
    return process_issuer().token(
        sub=sub, roles=list(roles), dealers=list(dealers), dealer_group=dealer_group, ttl_s=ttl_s
    )


def auth_header(**token_args: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer <token_for(**token_args)>"}``."""
    return {"Authorization": f"Bearer {token_for(**token_args)}"}
