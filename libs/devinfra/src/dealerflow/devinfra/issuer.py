"""A local OIDC-style token issuer for development, tests and the demo.

The services verify bearer tokens against an issuer's JWKS. In production that is a real
identity provider; locally it is this module: an ES256 signing key kept under the
profile's state folder (``<home>/<profile>/auth/``), a ``jwks.json`` beside it with the
public keys, and tokens signed with PyJWT carrying the claims the services read (``iss``,
``aud``, ``sub``, ``exp``, ``nbf``, ``iat``, ``roles``, ``dealers``, ``dealer_group``).

Layout of the folder::

    auth/keys/<kid>.pem   private keys (PKCS#8, mode 0600; the folder is 0700)
    auth/keyring.json     {"current": kid, "published": [kid, ...]}, newest first
    auth/jwks.json        the published public keys; what DEALERFLOW_AUTH_JWKS_URL names

The kid is the key's RFC 7638 thumbprint. ``rotate`` makes a new key current and keeps
the previous ones published, so tokens signed before the rotation still verify until
``retire`` drops them. Keys are created on first use; an advisory lock on ``auth/.lock``
keeps concurrent test processes from creating two.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from dealerflow.devinfra.config import PROFILES, InfraConfig, InfraError, default_home

ALGORITHM: Final = "ES256"
DEFAULT_AUDIENCE: Final = "dealerflow"
ISSUER_BASE: Final = "https://issuer.dealerflow.local"

#: The role names tokens carry (the handbooks' roles; the services also accept the
#: hyphenated spellings, the issuer's CLI writes these).
STAFF_ROLES: Final[tuple[str, ...]] = (
    "consultant",
    "advisor",
    "customer_relations",
    "sales_manager",
    "service_manager",
    "gm",
    "integration",
    "admin",
)

#: The three settings every service reads to verify tokens.
ENV_ISSUER: Final = "DEALERFLOW_AUTH_ISSUER"
ENV_AUDIENCE: Final = "DEALERFLOW_AUTH_AUDIENCE"
ENV_JWKS_URL: Final = "DEALERFLOW_AUTH_JWKS_URL"

# RFC 7638 section 3.2: the members a thumbprint hashes, per key type.
_THUMBPRINT_MEMBERS: Final[Mapping[str, tuple[str, ...]]] = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def default_issuer(profile: str) -> str:
    """The ``iss`` of a profile's local issuer, e.g. ``https://issuer.dealerflow.local/dev``."""
    return f"{ISSUER_BASE}/{profile}"


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    kty = str(jwk.get("kty"))
    if kty not in _THUMBPRINT_MEMBERS:
        raise ValueError(f"no thumbprint rule for key type {kty!r}")
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[kty]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The published form of ``key``: its public half with kid, use and alg."""
    jwk = dict(ECAlgorithm.to_jwk(key.public_key(), as_dict=True))
    jwk.pop("kid", None)
    return {**jwk, "kid": jwk_thumbprint(jwk), "use": "sig", "alg": ALGORITHM}


@dataclass
class DevIssuer:
    """A local issuer whose keys live in ``directory`` (see the module docstring).

    Cheap to construct; nothing touches the disk until a key is needed. Every call
    re-reads the keyring, so a rotation by another process (``dealerflow-auth rotate``)
    is seen at once.
    """

    directory: Path
    issuer: str = default_issuer("dev")
    audience: str = DEFAULT_AUDIENCE
    _keys: dict[str, ec.EllipticCurvePrivateKey] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def for_profile(
        cls,
        profile: str = "dev",
        *,
        home: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> DevIssuer:
        """The issuer of a ``dealerflow-infra`` profile: keys under ``<home>/<profile>/auth``
        (home: ``$DEALERFLOW_HOME`` or ``<repo>/.dealerflow``), ``iss`` from
        :func:`default_issuer`."""
        if profile not in PROFILES:
            raise InfraError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
        root = (home or default_home(env)).resolve()
        return cls(root / profile / "auth", issuer=default_issuer(profile))

    @classmethod
    def for_config(cls, cfg: InfraConfig) -> DevIssuer:
        """The issuer of ``cfg``'s profile and state folder."""
        return cls(cfg.state_dir / "auth", issuer=default_issuer(cfg.profile))

    # -- where things are -------------------------------------------------------------

    @property
    def jwks_path(self) -> Path:
        """The JWKS file the services read."""
        return self.directory / "jwks.json"

    @property
    def jwks_url(self) -> str:
        """``file://`` URL of :attr:`jwks_path`. PyJWT 2.15's ``PyJWKClient`` fetches only
        http(s): read the file into a ``jwt.PyJWKSet``, or serve it (``dealerflow-auth
        serve``) for clients that need an HTTP URL."""
        return self.jwks_path.absolute().as_uri()

    def environment(self) -> dict[str, str]:
        """``DEALERFLOW_AUTH_ISSUER``, ``..._AUDIENCE`` and ``..._JWKS_URL`` for services."""
        return {
            ENV_ISSUER: self.issuer,
            ENV_AUDIENCE: self.audience,
            ENV_JWKS_URL: self.jwks_url,
        }

    # -- keys -------------------------------------------------------------------------

    def ensure(self) -> str:
        """Create the signing key and the JWKS if missing; return the current kid."""
        ring = self._read_ring()
        if ring is not None and self._complete(ring):
            return str(ring["current"])
        with self._locked():
            ring = self._read_ring()
            if ring is None or not (self._keys_dir / f"{ring['current']}.pem").exists():
                kid = self._new_key()
                published = [kid, *(ring["published"] if ring else [])]
                ring = {"current": kid, "published": self._existing(published)}
                self._write_ring(ring)
            self._write_jwks(ring["published"])
            return str(ring["current"])

    @property
    def current_kid(self) -> str:
        """The kid new tokens are signed with (created on first use)."""
        return self.ensure()

    @property
    def published_kids(self) -> list[str]:
        """Every kid in the JWKS, newest first."""
        self.ensure()
        ring = self._read_ring()
        assert ring is not None
        return list(ring["published"])

    def jwks(self) -> dict[str, Any]:
        """The published JWKS document (public keys only)."""
        self.ensure()
        return dict(json.loads(self.jwks_path.read_text("utf-8")))

    def rotate(self) -> str:
        """Make a new key current; earlier keys stay published until :meth:`retire`."""
        self.ensure()
        with self._locked():
            ring = self._read_ring()
            assert ring is not None
            kid = self._new_key()
            ring = {"current": kid, "published": self._existing([kid, *ring["published"]])}
            self._write_ring(ring)
            self._write_jwks(ring["published"])
            return kid

    def retire(self) -> list[str]:
        """Drop every key but the current one from the JWKS and the disk; return their kids.

        Tokens signed with a retired key stop verifying once the services refetch the JWKS.
        """
        current = self.ensure()
        with self._locked():
            ring = self._read_ring()
            assert ring is not None
            retired = [kid for kid in ring["published"] if kid != current]
            self._write_ring({"current": current, "published": [current]})
            self._write_jwks([current])
            for kid in retired:
                self._keys.pop(kid, None)
                (self._keys_dir / f"{kid}.pem").unlink(missing_ok=True)
            return retired

    # -- tokens -----------------------------------------------------------------------

    def claims(
        self,
        *,
        sub: str,
        roles: Sequence[str],
        dealers: Sequence[str] = (),
        dealer_group: str | None = None,
        ttl_s: int = 3600,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
        now: datetime | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The claims :meth:`token` signs (``now`` backdates or postdates the token)."""
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        claims: dict[str, Any] = {
            "iss": self.issuer if issuer is None else issuer,
            "aud": self.audience if audience is None else _audience(audience),
            "sub": sub,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
            "roles": list(roles),
            "dealers": list(dealers),
        }
        if dealer_group is not None:
            claims["dealer_group"] = dealer_group
        claims.update(extra_claims or {})
        return claims

    def token(
        self,
        *,
        sub: str,
        roles: Sequence[str],
        dealers: Sequence[str] = (),
        dealer_group: str | None = None,
        ttl_s: int = 3600,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
        now: datetime | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        kid: str | None = None,
    ) -> str:
        """A signed bearer token (compact JWS). ``kid`` picks a published key other than
        the current one (tests of rotation); the other arguments are those of
        :meth:`claims`."""
        current = self.ensure()
        signing_kid = kid or current
        payload = self.claims(
            sub=sub,
            roles=roles,
            dealers=dealers,
            dealer_group=dealer_group,
            ttl_s=ttl_s,
            audience=audience,
            issuer=issuer,
            now=now,
            extra_claims=extra_claims,
        )
        headers = {"kid": signing_kid, "typ": "JWT"}
        return jwt.encode(payload, self._private_key(signing_kid), ALGORITHM, headers=headers)

    # -- storage ----------------------------------------------------------------------

    @property
    def _keys_dir(self) -> Path:
        return self.directory / "keys"

    @property
    def _ring_path(self) -> Path:
        return self.directory / "keyring.json"

    def _read_ring(self) -> dict[str, Any] | None:
        try:
            ring = json.loads(self._ring_path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as exc:
            raise InfraError(f"{self._ring_path} is not valid JSON ({exc}); delete it") from None
        return dict(ring)

    def _complete(self, ring: Mapping[str, Any]) -> bool:
        return (self._keys_dir / f"{ring['current']}.pem").exists() and self.jwks_path.exists()

    def _existing(self, kids: Sequence[str]) -> list[str]:
        seen: list[str] = []
        for kid in kids:
            if kid not in seen and (self._keys_dir / f"{kid}.pem").exists():
                seen.append(kid)
        return seen

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (self.directory / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _new_key(self) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        kid = str(public_jwk(key)["kid"])
        self._keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created 0600 from the start: the private key is never readable by others.
        fd = os.open(self._keys_dir / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        self._keys[kid] = key
        return kid

    def _private_key(self, kid: str) -> ec.EllipticCurvePrivateKey:
        if kid not in self._keys:
            path = self._keys_dir / f"{kid}.pem"
            if not path.exists():
                raise InfraError(f"no signing key {kid!r} in {self._keys_dir}")
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise InfraError(f"{path} is not an EC private key")
            self._keys[kid] = key
        return self._keys[kid]

    def _write_ring(self, ring: Mapping[str, Any]) -> None:
        _write_atomically(self._ring_path, json.dumps(ring, indent=2) + "\n")

    def _write_jwks(self, kids: Sequence[str]) -> None:
        document = {"keys": [public_jwk(self._private_key(kid)) for kid in kids]}
        _write_atomically(self.jwks_path, json.dumps(document, indent=2) + "\n")


def _audience(audience: str | Sequence[str]) -> str | list[str]:
    return audience if isinstance(audience, str) else list(audience)


def _write_atomically(path: Path, text: str) -> None:
    # Readers (services refetching the JWKS) never see a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
