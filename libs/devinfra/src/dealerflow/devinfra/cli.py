"""``dealerflow-infra``: run Kafka and PostgreSQL natively for development and tests.

dealerflow-infra up      [--profile dev|test] [--only kafka|postgres] [--no-topics]
dealerflow-infra down    [--profile ...] [--all-profiles] [--purge]
dealerflow-infra status  [--profile ...]
dealerflow-infra env     [--profile ...]          # prints `export ...` lines

`up` creates the catalogue topics with runtime's ``dealerflow-topics create`` logic
(``dealerflow.runtime.kafka_admin``), the same the migration job runs, and the profile's
local token issuer key (``dealerflow-auth``) if missing; `env` points the services at it.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from dealerflow.devinfra import kafka, postgres
from dealerflow.devinfra.config import (
    PG_APP_ROLE,
    PROFILES,
    InfraConfig,
    InfraError,
    resolve_config,
)
from dealerflow.devinfra.issuer import DevIssuer
from dealerflow.devinfra.proc import run_coroutine, stderr_progress
from dealerflow.devinfra.services import DEV_CHANNEL_ENV
from dealerflow.devinfra.status import ComponentStatus
from dealerflow.runtime.kafka_admin import DEFAULT_PREFIX, TopicAdminError, create_catalogue_topics

COMPONENTS = ("kafka", "postgres")


def up(
    cfg: InfraConfig,
    *,
    components: Sequence[str] = COMPONENTS,
    topics: bool = True,
    timeout_s: float = 120.0,
) -> list[ComponentStatus]:
    """Start what is not running (idempotent), create the catalogue topics and the local
    issuer's signing key."""
    DevIssuer.for_config(cfg).ensure()
    started: list[ComponentStatus] = []
    if "postgres" in components:
        started.append(postgres.start(cfg, timeout_s=timeout_s))
    if "kafka" in components:
        started.append(kafka.start(cfg, timeout_s=timeout_s))
        if topics:
            prefix = os.environ.get("DEALERFLOW_TOPIC_PREFIX") or DEFAULT_PREFIX
            created = run_coroutine(lambda: create_catalogue_topics(cfg.kafka_bootstrap, prefix))
            if created:
                stderr_progress(f"created {len(created)} topics with prefix {prefix!r}")
    return started


def down(cfg: InfraConfig, *, components: Sequence[str] = COMPONENTS, purge: bool = False) -> None:
    """Stop this profile's servers; with ``purge`` also delete their data."""
    if "kafka" in components:
        kafka.stop(cfg)
        if purge:
            kafka.purge(cfg)
    if "postgres" in components:
        postgres.stop(cfg)
        if purge:
            postgres.purge(cfg)


def env_lines(cfg: InfraConfig) -> list[str]:
    """Shell ``export`` lines pointing services and tests at this profile: services run
    as the application role (``DEALERFLOW_PG_DSN``), migrations and tests as the owner
    (``DEALERFLOW_PG_MIGRATION_DSN``), events of unconfigured dealers get the defaults, and
    tokens come from the profile's local issuer (``up`` creates its key); the dev profile
    also sets the notifier's recording drivers (`services.DEV_CHANNEL_ENV`)."""
    lines = [
        f"export DEALERFLOW_KAFKA_BOOTSTRAP={shlex.quote(cfg.kafka_bootstrap)}",
        f"export DEALERFLOW_PG_DSN={shlex.quote(cfg.pg_app_dsn)}",
        f"export DEALERFLOW_PG_MIGRATION_DSN={shlex.quote(cfg.pg_dsn)}",
        f"export DEALERFLOW_PG_APP_ROLE={shlex.quote(PG_APP_ROLE)}",
        "export DEALERFLOW_UNKNOWN_DEALERS=defaults",
    ]
    env = dict(DevIssuer.for_config(cfg).environment())
    if cfg.profile == "dev":
        # a notifier started by hand in this shell records its messages (it has no default
        # driver); the test profile's tests set their drivers themselves
        env |= DEV_CHANNEL_ENV
    return lines + [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--profile",
        choices=PROFILES,
        default="dev",
        help="dev: 9092/5432 (default); test: 19092/15432",
    )
    common.add_argument(
        "--home", type=Path, help="state root (default $DEALERFLOW_HOME or <repo>/.dealerflow)"
    )
    common.add_argument("--kafka-port", type=int)
    common.add_argument("--kafka-controller-port", type=int)
    common.add_argument("--pg-port", type=int)
    common.add_argument("--only", choices=COMPONENTS, help="act on one component only")

    parser = argparse.ArgumentParser(
        prog="dealerflow-infra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", parents=[common], help="start Kafka and PostgreSQL")
    p_up.add_argument("--no-topics", action="store_true", help="do not create topics")
    p_up.add_argument("--timeout", type=float, default=120.0, help="seconds per server")
    p_down = sub.add_parser("down", parents=[common], help="stop them")
    p_down.add_argument("--purge", action="store_true", help="also delete their data")
    p_down.add_argument("--all-profiles", action="store_true", help="stop dev and test")
    sub.add_parser("status", parents=[common], help="show what runs (exit 3 if not all)")
    sub.add_parser("env", parents=[common], help="print export lines for the shell")
    return parser


def _config(args: argparse.Namespace, profile: str | None = None) -> InfraConfig:
    return resolve_config(
        profile or args.profile,
        home=args.home,
        kafka_port=args.kafka_port,
        kafka_controller_port=args.kafka_controller_port,
        pg_port=args.pg_port,
    )


def _run(args: argparse.Namespace) -> int:
    components = (args.only,) if args.only else COMPONENTS
    if args.command == "up":
        cfg = _config(args)
        up(cfg, components=components, topics=not args.no_topics, timeout_s=args.timeout)
        print(f"dealerflow infrastructure ({cfg.profile}) is up:")
        if "kafka" in components:
            print(f"  Kafka       {cfg.kafka_bootstrap}")
        if "postgres" in components:
            print(f"  PostgreSQL  {cfg.pg_dsn} (owner; services: {cfg.pg_app_dsn})")
        issuer = DevIssuer.for_config(cfg)
        print(f"  issuer      {issuer.issuer}  (JWKS {issuer.jwks_url})")
        print(f"  state       {cfg.state_dir}")
        return 0
    if args.command == "down":
        profiles = PROFILES if args.all_profiles else (args.profile,)
        for profile in profiles:
            down(_config(args, profile), components=components, purge=args.purge)
        return 0
    if args.command == "status":
        cfg = _config(args)
        rows = []
        if "kafka" in components:
            rows.append(kafka.status(cfg))
        if "postgres" in components:
            rows.append(postgres.status(cfg))
        for row in rows:
            print(row.describe())
        return 0 if all(row.state != "stopped" for row in rows) else 3
    if args.command == "env":
        print("\n".join(env_lines(_config(args))))
        return 0
    raise AssertionError(args.command)  # argparse rejects unknown commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dealerflow-infra``; returns the process exit code."""
    args = _parser().parse_args(argv)
    # aiokafka logs each refused connection at ERROR while a broker starts; we report
    # failures ourselves, with the log tail.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return _run(args)
    except (InfraError, TopicAdminError) as exc:
        print(f"dealerflow-infra: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
