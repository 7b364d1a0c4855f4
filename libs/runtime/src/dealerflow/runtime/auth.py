"""Bearer tokens on every ``/v1`` operation: who calls, in which roles, for which dealers.

Staff front ends and other dealer systems send an OAuth2/OIDC access token (a JWT) in
``Authorization: Bearer <token>``. It is verified with PyJWT against the issuer's JWKS
(``auth_jwks_url``; fetched, cached and refetched when a token names an unknown ``kid``,
so keys rotate without a restart): the algorithm must be RS256 or ES256 (``none`` and the
HS* family are refused), the signature must match, ``iss`` / ``aud`` must be the
configured ones, ``exp`` (required) and ``nbf`` are checked with ``auth_leeway_s``.

The claims say who acts (:class:`Principal`): ``sub`` (the staff id or client id),
``roles`` (:class:`Role`; "sales-manager" and "sales_manager" both work), ``dealers`` (the
dealer ids the token may act for; ``"*"`` = all) and optionally ``dealer_group`` (every
store whose ``profile.group_id`` is that group).

Each ``/v1`` route declares who may call it with ``dependencies=[allow(Role.X, ...)]``
(:func:`allow`); the runtime refuses to build an app with a ``/v1`` route that declares
nothing, documents the roles in the OpenAPI (``x-roles``, the bearer scheme, 401 and 403
problems) and renders them into docs/security.md. Answers:

- no token, or one that does not verify: 401 with ``WWW-Authenticate: Bearer`` and a
  problem body (the reason, never the token);
- a valid token without one of the route's roles: 403;
- a ``dealer_id`` in the path, the query or the JSON body that the token does not cover:
  403; a record of another dealer looked up by id: 404 (the services scope every query by
  the dealer the token covers, so it is simply not found).

Verifying a signature costs a thread hop and an RS256/ES256 check per request, and a
client sends the same token for its whole life: :meth:`TokenVerifier.verify` keeps the
principal of each token it verified (up to ``max_cached_tokens``), answers a repeat
from that while the token has not expired (``exp`` + leeway) and the key set it was
verified against is still the one in use; any change of the key set (rotation,
retirement, the periodic refetch) verifies every token again.

The principal of the request is kept in a context variable for the use case that the
route runs (:func:`current_principal`): the use-case context takes the acting staff id
from it (``uc.actor``, carried by the events it publishes) and the dealers it may see.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jwt
from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from dealerflow.runtime.db import ALL_DEALERS  # a ``dealers`` claim entry: every dealer

__all__ = [
    "ALGORITHMS",
    "ALL_DEALERS",
    "AuthenticationFailed",
    "DealerNotCovered",
    "Principal",
    "Role",
    "RoleNotAllowed",
    "TokenVerifier",
    "allow",
    "allowed_roles",
    "current_principal",
    "guard",
    "is_public",
    "public",
]

#: The only signature algorithms accepted (asymmetric; ``none`` and HS* never).
ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")


class Role(StrEnum):
    """Roles of the handbooks, plus machine clients and platform administrators."""

    CONSULTANT = "consultant"
    ADVISOR = "advisor"
    CUSTOMER_RELATIONS = "customer_relations"
    SALES_MANAGER = "sales_manager"
    SERVICE_MANAGER = "service_manager"
    GM = "gm"
    INTEGRATION = "integration"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str) -> Role | None:
        """The role named ``value`` ("sales-manager" or "sales_manager"), None if unknown."""
        try:
            return cls(value.strip().lower().replace("-", "_"))
        except ValueError:
            return None


#: Every staff role (not integration, not admin): "any staff member of the dealer".
STAFF: tuple[Role, ...] = (
    Role.CONSULTANT,
    Role.ADVISOR,
    Role.CUSTOMER_RELATIONS,
    Role.SALES_MANAGER,
    Role.SERVICE_MANAGER,
    Role.GM,
)
#: The managers of a store.
MANAGERS: tuple[Role, ...] = (Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.GM)


class AuthenticationFailed(Exception):
    """No bearer token, or one that does not verify (401)."""


class RoleNotAllowed(Exception):
    """A valid token without any of the operation's roles (403)."""


class DealerNotCovered(Exception):
    """A dealer named in the request that the token may not act for (403)."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    subject: str
    roles: frozenset[Role]
    dealers: frozenset[str]
    dealer_group: str | None = None

    @property
    def all_dealers(self) -> bool:
        """True for a token that may act for every dealer (``dealers: ["*"]``)."""
        return ALL_DEALERS in self.dealers

    def has_any(self, roles: Iterable[Role]) -> bool:
        """True when the principal holds one of ``roles`` (admin holds them all)."""
        return Role.ADMIN in self.roles or bool(self.roles & set(roles))

    def covers(self, dealer_id: str, group_of: str | None = None) -> bool:
        """May act for ``dealer_id`` (whose dealer group is ``group_of``, if known)."""
        if self.all_dealers or dealer_id in self.dealers:
            return True
        return self.dealer_group is not None and group_of == self.dealer_group


_PRINCIPAL: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "dealerflow_principal", default=None
)


def current_principal() -> Principal | None:
    """The principal of the HTTP request being handled (None outside requests)."""
    return _PRINCIPAL.get()


def _claim_list(claims: dict[str, Any], name: str) -> list[str]:
    value = claims.get(name, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise AuthenticationFailed(f"the token's {name!r} claim must be a list of strings")


def principal_of(claims: dict[str, Any]) -> Principal:
    """The principal a verified token's claims describe."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise AuthenticationFailed("the token names no subject (sub)")
    roles = {Role.parse(r) for r in _claim_list(claims, "roles")}
    group = claims.get("dealer_group")
    if group is not None and not isinstance(group, str):
        raise AuthenticationFailed("the token's 'dealer_group' claim must be a string")
    return Principal(
        subject=subject.strip(),
        roles=frozenset(r for r in roles if r is not None),
        dealers=frozenset(d.strip() for d in _claim_list(claims, "dealers") if d.strip()),
        dealer_group=group or None,
    )


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    #: ``exp`` + leeway (epoch seconds): refused from then on
    expires_at: float
    #: the key set the signature was checked against (its identity)
    key_set: object


class TokenVerifier:
    """Verifies bearer tokens against one issuer's JWKS (module docstring)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str,
        leeway_s: float = 30.0,
        max_cached_tokens: int = 10_000,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._keys: jwt.PyJWKClient | _FileJwks
        if urlparse(jwks_url).scheme == "file":
            self._keys = _FileJwks(Path(url2pathname(urlparse(jwks_url).path)))
        else:
            # PyJWKClient caches the key set (refetched after ``lifespan`` seconds, and at
            # once when a token names a kid it does not have: key rotation).
            self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._max_cached = max_cached_tokens
        self._verified: OrderedDict[str, _Verified] = OrderedDict()

    def _key_set_in_use(self) -> object | None:
        """The key set tokens are checked against now, without fetching or reading it
        (None: it must be fetched or read again first)."""
        if isinstance(self._keys, _FileJwks):
            return self._keys.unchanged_key_set()
        cache = self._keys.jwk_set_cache
        return cache.get() if cache is not None else None

    def verify_sync(self, token: str) -> Principal:
        """The principal of ``token``; raises :class:`AuthenticationFailed`."""
        return self._verify(token).principal

    def _signing_key(self, token: str) -> tuple[jwt.PyJWK, object | None]:
        """The key that signed ``token`` and the key set it is from (None: unknown)."""
        if isinstance(self._keys, _FileJwks):
            return self._keys.signing_key(token)
        key = self._keys.get_signing_key_from_jwt(token)
        return key, self._key_set_in_use()

    def _verify(self, token: str) -> _Verified:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise AuthenticationFailed(
                    f"token algorithm {header.get('alg')!r} is not accepted "
                    f"(use one of {', '.join(ALGORITHMS)})"
                )
            key, key_set = self._signing_key(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except AuthenticationFailed:
            raise
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthenticationFailed("the issuer's keys cannot be fetched now") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"invalid token: {exc}") from exc
        return _Verified(principal_of(claims), float(claims["exp"]) + self.leeway_s, key_set)

    async def verify(self, token: str) -> Principal:
        """:meth:`verify_sync` off the event loop (a key fetch is blocking I/O), or the
        principal a check of the same token gave while it still holds (module docstring)."""
        known = self._verified.get(token)
        if known is not None:
            key_set = self._key_set_in_use()
            if time.time() < known.expires_at and key_set is not None and key_set is known.key_set:
                self._verified.move_to_end(token)
                return known.principal
            del self._verified[token]
        verified = await asyncio.to_thread(self._verify, token)
        if verified.key_set is not None:
            self._verified[token] = verified
            if len(self._verified) > self._max_cached:
                self._verified.popitem(last=False)
        return verified.principal


class _FileJwks:
    """A JWKS in a local file (the development issuer's; PyJWKClient only fetches
    http(s)): read again whenever the file changed, so a rotated key is seen at once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: float | None = None
        self._keys: jwt.PyJWKSet | None = None

    def unchanged_key_set(self) -> jwt.PyJWKSet | None:
        """The key set read last, unless the file changed since (or cannot be read)."""
        try:
            stamp = self._path.stat().st_mtime
        except OSError:
            return None
        return self._keys if stamp == self._stamp else None

    def signing_key(self, token: str) -> tuple[jwt.PyJWK, jwt.PyJWKSet]:
        """The key ``token`` names and the key set it is from."""
        kid = jwt.get_unverified_header(token).get("kid")
        try:
            stamp = self._path.stat().st_mtime
            keys = self._keys
            if keys is None or stamp != self._stamp:
                keys = jwt.PyJWKSet.from_json(self._path.read_text("utf-8"))
                self._keys, self._stamp = keys, stamp
        except (OSError, jwt.PyJWTError) as exc:
            raise jwt.PyJWKClientConnectionError(f"cannot read {self._path}: {exc}") from exc
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key, keys
        raise jwt.PyJWKClientError(f"no key with kid {kid!r} in the issuer's JWKS")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("a bearer token is required (Authorization: Bearer ...)")
    return token.strip()


async def _named_dealers(request: Request) -> set[str]:
    """The dealer ids a request names: path, query and the top level of a JSON body."""
    named: set[str] = set()
    for value in (request.path_params.get("dealer_id"), *request.query_params.getlist("dealer_id")):
        if value:
            named.add(str(value))
    if request.method in {"POST", "PUT", "PATCH"} and "json" in request.headers.get(
        "content-type", ""
    ):
        try:
            body = json.loads(await request.body() or b"null")
        except (ValueError, RecursionError):
            body = None  # the route's own validation answers (422, or 400 when too deep)
        if isinstance(body, dict) and isinstance(body.get("dealer_id"), str):
            named.add(body["dealer_id"])
    return named


#: How the runtime finds a dealer's group for ``dealer_group`` tokens (``app.state``).
GroupLookup = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class _Allow:
    """The dependency :func:`allow` returns; ``roles`` documents the operation."""

    roles: tuple[Role, ...]

    async def __call__(self, request: Request) -> Principal:
        verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
        if verifier is None:
            raise AuthenticationFailed("this service has no token issuer configured")
        principal = await verifier.verify(_bearer(request))
        if not principal.has_any(self.roles):
            raise RoleNotAllowed(
                f"this operation needs one of the roles {', '.join(r.value for r in self.roles)}"
            )
        group_of: GroupLookup | None = getattr(request.app.state, "dealer_group_of", None)
        named = sorted(await _named_dealers(request))
        for dealer_id in named:
            group = await group_of(dealer_id) if group_of and principal.dealer_group else None
            if not principal.covers(dealer_id, group):
                raise DealerNotCovered(f"the token may not act for dealer {dealer_id}")
        if principal.dealer_group and not principal.all_dealers:
            # the group's stores this request named (checked above) join the dealers the
            # request acts for (row-level security)
            principal = replace(principal, dealers=principal.dealers | set(named))
        _PRINCIPAL.set(principal)
        request.state.principal = principal
        return principal


def allow(*roles: Role) -> DependsParam:
    """``dependencies=[allow(Role.CONSULTANT, Role.SALES_MANAGER)]``: who may call a route
    (admin always may). The dependency verifies the bearer token, the role and every
    dealer the request names; a handler that needs the principal declares
    ``principal: Annotated[Principal, allow(...)]`` instead."""
    if not roles:
        raise ValueError("allow() needs at least one role (use public() for open routes)")
    dependency: DependsParam = Depends(_Allow(tuple(roles)))
    return dependency


def public() -> DependsParam:
    """Marks a route that needs no token: ``dependencies=[public()]``. Under /v1 only for
    what a customer opens from a message (e.g. the notifier's unsubscribe link, whose
    token the route checks itself); tests/security lists every such operation."""
    dependency: DependsParam = Depends(_public)
    return dependency


async def _public() -> None:
    return None


def allowed_roles(route: Any) -> tuple[Role, ...] | None:
    """The roles an :func:`allow` of a FastAPI route grants (None: the route has none)."""
    dependant = getattr(route, "dependant", None)
    for dependency in getattr(dependant, "dependencies", ()):
        if isinstance(dependency.call, _Allow):
            return dependency.call.roles
    return None


def is_public(route: Any) -> bool:
    """Whether a FastAPI route is marked :func:`public`."""
    dependant = getattr(route, "dependant", None)
    return any(d.call is _public for d in getattr(dependant, "dependencies", ()))


#: What a ``/v1`` route that declares no roles needs: fail closed, administrators only.
UNDECLARED = _Allow((Role.ADMIN,))


async def guard(request: Request) -> None:
    """App-wide dependency: a ``/v1`` route without :func:`allow` (or :func:`public`) is
    admin-only."""
    route = request.scope.get("route")
    if request.url.path.startswith("/v1") and allowed_roles(route) is None and not is_public(route):
        await UNDECLARED(request)
