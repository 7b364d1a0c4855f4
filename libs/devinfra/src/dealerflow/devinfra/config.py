"""Where the native infrastructure lives and which ports it uses.

Two profiles share one code path: ``dev`` (the default addresses every service uses,
Kafka 127.0.0.1:9092 and PostgreSQL 127.0.0.1:5432) and ``test`` (dedicated ports, so a
test run never touches a developer's data). Each profile keeps its state under
``<home>/<profile>/`` where home is ``$DEALERFLOW_HOME`` or ``<repo>/.dealerflow``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote, urlsplit, urlunsplit

Profile = Literal["dev", "test"]
PROFILES: Final[tuple[Profile, ...]] = ("dev", "test")

DATABASE: Final = "dealerflow"
PG_SUPERUSER: Final = "postgres"
#: The role services run as (LOGIN, not the schemas' owner, so row-level security holds);
#: its password is for servers that ask for one (the native profiles trust loopback).
PG_APP_ROLE: Final = "dealerflow_app"
PG_APP_PASSWORD: Final = "dealerflow_app"

# Per-profile defaults: (kafka port, kafka controller port, postgres port).
_DEFAULT_PORTS: Final[Mapping[Profile, tuple[int, int, int]]] = {
    "dev": (9092, 9093, 5432),
    "test": (19092, 19093, 15432),
}
# Environment overrides per profile, e.g. DEALERFLOW_TEST_INFRA_PG_PORT=25432.
_ENV_PREFIX: Final[Mapping[Profile, str]] = {
    "dev": "DEALERFLOW_INFRA_",
    "test": "DEALERFLOW_TEST_INFRA_",
}


class InfraError(RuntimeError):
    """A step of the local infrastructure failed; the message says what to do."""


@dataclass(frozen=True)
class KafkaListener:
    """An extra PLAINTEXT listener of the broker: bound on ``port``, advertised as
    ``advertised`` (``host:port``), e.g. a fault proxy in front of it, so clients that
    bootstrap through the proxy reconnect through it too."""

    name: str
    port: int
    advertised: str


@dataclass(frozen=True)
class InfraConfig:
    """Everything needed to run one profile's Kafka and PostgreSQL natively."""

    profile: str
    home: Path
    cache_dir: Path
    kafka_port: int
    kafka_controller_port: int
    pg_port: int
    kafka_heap: str = "1g"
    host: str = "127.0.0.1"
    #: Listeners besides the clients' one (the chaos suite's proxied links).
    kafka_extra_listeners: tuple[KafkaListener, ...] = ()
    #: PostgreSQL with its durable defaults (fsync, synchronous_commit) instead of the
    #: dev/test speed settings: for a cluster a test kills and expects to keep its commits.
    pg_durable: bool = False

    @property
    def state_dir(self) -> Path:
        """Directory holding this profile's data, logs, pid files and lock."""
        return self.home / self.profile

    @property
    def kafka_bootstrap(self) -> str:
        """Bootstrap address clients use."""
        return f"{self.host}:{self.kafka_port}"

    @property
    def pg_dsn(self) -> str:
        """DSN of the ``dealerflow`` database (trust auth on loopback)."""
        return f"postgresql://{PG_SUPERUSER}@{self.host}:{self.pg_port}/{DATABASE}"

    @property
    def pg_app_dsn(self) -> str:
        """DSN of the ``dealerflow`` database as the application role (what services use)."""
        return app_dsn(self.pg_dsn)

    @property
    def pg_admin_dsn(self) -> str:
        """DSN of the ``postgres`` maintenance database, used to create ``dealerflow``."""
        return f"postgresql://{PG_SUPERUSER}@{self.host}:{self.pg_port}/postgres"


def app_dsn(owner_dsn: str) -> str:
    """``owner_dsn`` with the application role's name and password instead of its user."""
    parts = urlsplit(owner_dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(PG_APP_ROLE)}:{quote(PG_APP_PASSWORD)}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def find_repo_root(start: Path | None = None) -> Path | None:
    """The uv workspace root above ``start`` (or above this package), if any."""
    candidates = [Path(__file__).resolve(), (start or Path.cwd()).resolve()]
    for origin in candidates:
        for directory in [origin, *origin.parents]:
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text("utf-8"):
                return directory
    return None


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """``$DEALERFLOW_HOME``, else ``<repo>/.dealerflow``, else ``~/.dealerflow``."""
    env = os.environ if env is None else env
    if env.get("DEALERFLOW_HOME"):
        return Path(env["DEALERFLOW_HOME"]).expanduser().resolve()
    root = find_repo_root()
    return (root / ".dealerflow") if root else Path.home() / ".dealerflow"


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$DEALERFLOW_CACHE_DIR``, else ``$XDG_CACHE_HOME/dealerflow``, else ``~/.cache/...``."""
    env = os.environ if env is None else env
    if env.get("DEALERFLOW_CACHE_DIR"):
        return Path(env["DEALERFLOW_CACHE_DIR"]).expanduser().resolve()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return (base / "dealerflow").resolve()


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise InfraError(f"{name}={raw!r} is not a port number") from None


def resolve_config(
    profile: str = "dev",
    *,
    home: Path | None = None,
    kafka_port: int | None = None,
    kafka_controller_port: int | None = None,
    pg_port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> InfraConfig:
    """Build a profile's config: explicit arguments win over environment over defaults."""
    if profile not in PROFILES:
        raise InfraError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    env = os.environ if env is None else env
    typed: Profile = "dev" if profile == "dev" else "test"
    prefix = _ENV_PREFIX[typed]
    d_kafka, d_ctrl, d_pg = _DEFAULT_PORTS[typed]
    kafka = kafka_port or _env_int(env, prefix + "KAFKA_PORT") or d_kafka
    ctrl = kafka_controller_port or _env_int(env, prefix + "KAFKA_CONTROLLER_PORT")
    if ctrl is None:
        # Keep the controller next to a moved broker port unless told otherwise.
        ctrl = d_ctrl if kafka == d_kafka else kafka + 1
    pg = pg_port or _env_int(env, prefix + "PG_PORT") or d_pg
    if len({kafka, ctrl, pg}) != 3:
        raise InfraError(f"ports must differ: kafka={kafka} controller={ctrl} postgres={pg}")
    return InfraConfig(
        profile=profile,
        home=(home or default_home(env)).resolve(),
        cache_dir=default_cache_dir(env),
        kafka_port=kafka,
        kafka_controller_port=ctrl,
        pg_port=pg,
        kafka_heap=env.get(prefix + "KAFKA_HEAP") or "1g",
    )
