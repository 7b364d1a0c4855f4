"""``dealerflow-topics``: create and describe the catalogue's Kafka topics.

    dealerflow-topics create   [--bootstrap HOST:PORT] [--prefix P] [--partitions N]
                               [--replication-factor R]
    dealerflow-topics describe [--bootstrap HOST:PORT] [--prefix P]

``create`` is idempotent (existing topics are left as they are) and gives each topic its
configuration from the contracts (``TopicRegistry.configs``: the dealers topic is
log-compacted); the migration job runs it after the services' migrations. ``describe``
prints each topic's partition count and cleanup.policy; it exits 3 when a topic is
missing, else 4 when one's cleanup.policy is not the contract's (e.g. a dealers topic
auto-created before ``create`` ran: fix it with ``kafka-configs --alter``).
``--bootstrap`` defaults to $DEALERFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092, ``--prefix`` to
$DEALERFLOW_TOPIC_PREFIX or ``dealerflow.``, partitions and replication factor to
$DEALERFLOW_TOPIC_PARTITIONS / $DEALERFLOW_TOPIC_REPLICATION_FACTOR. SASL/TLS come from
the $DEALERFLOW_KAFKA_SECURITY_PROTOCOL, _SASL_* and _SSL_* variables (docs/operations.md,
"Kafka security").
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.kafka_admin import (
    DEFAULT_PREFIX,
    TopicAdminError,
    catalogue_topics,
    create_catalogue_topics,
    describe_topic_configs,
    describe_topics,
)
from dealerflow.runtime.kafka_security import environment_client_options

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
MISSING_EXIT_CODE = 3
MISCONFIGURED_EXIT_CODE = 4
_CLEANUP = "cleanup.policy"


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw} is not at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--bootstrap",
        default=os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP,
        help="Kafka bootstrap servers (default: $DEALERFLOW_KAFKA_BOOTSTRAP or %(default)s)",
    )
    common.add_argument(
        "--prefix",
        default=os.environ.get("DEALERFLOW_TOPIC_PREFIX") or DEFAULT_PREFIX,
        help="topic name prefix (default: $DEALERFLOW_TOPIC_PREFIX or %(default)s)",
    )
    parser = argparse.ArgumentParser(prog="dealerflow-topics", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", parents=[common], help="create the missing topics")
    create.add_argument(
        "--partitions",
        type=_positive_int,
        help="default: $DEALERFLOW_TOPIC_PARTITIONS or the contracts' DEFAULT_PARTITIONS",
    )
    create.add_argument(
        "--replication-factor",
        type=_positive_int,
        help="default: $DEALERFLOW_TOPIC_REPLICATION_FACTOR or 1",
    )
    sub.add_parser(
        "describe", parents=[common], help="partition count and cleanup.policy of every topic"
    )
    return parser


async def _create(args: argparse.Namespace, out: TextIO) -> int:
    created = await create_catalogue_topics(
        args.bootstrap,
        args.prefix,
        partitions=args.partitions,
        replication_factor=args.replication_factor,
        client_options=environment_client_options(),
    )
    out.write(f"{len(created)} topics created at {args.bootstrap}: {', '.join(created) or '-'}\n")
    return 0


async def _describe(args: argparse.Namespace, out: TextIO) -> int:
    registry = TopicRegistry(args.prefix)
    names = catalogue_topics(args.prefix)
    security = environment_client_options()
    counts = await describe_topics(args.bootstrap, names, client_options=security)
    configs = await describe_topic_configs(
        args.bootstrap, names, [_CLEANUP], client_options=security
    )
    misconfigured = 0
    for name, partitions in counts.items():
        if partitions is None:
            out.write(f"{name}\tmissing\n")
            continue
        policy = configs.get(name, {}).get(_CLEANUP, "?")
        wanted = registry.config(name).get(_CLEANUP, "delete")
        line = f"{name}\t{partitions}\t{policy}"
        if policy != wanted:
            misconfigured += 1
            line += f"\tmisconfigured: the contract says {_CLEANUP}={wanted}"
        out.write(line + "\n")
    missing = sum(1 for partitions in counts.values() if partitions is None)
    out.write(f"{len(counts) - missing} of {len(counts)} topics exist at {args.bootstrap}\n")
    if missing:
        return MISSING_EXIT_CODE
    return MISCONFIGURED_EXIT_CODE if misconfigured else 0


_COMMANDS = {"create": _create, "describe": _describe}


async def run_async(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the CLI with ``argv`` (without the program name); returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return await _COMMANDS[args.command](args, out or sys.stdout)
    except (TopicAdminError, ValueError) as exc:  # ValueError: bad DEALERFLOW_KAFKA_* settings
        (err or sys.stderr).write(f"dealerflow-topics: error: {exc}\n")
        return 1


def main() -> None:
    """Console-script entry point ``dealerflow-topics``."""
    # aiokafka logs each refused connection at ERROR; the error is reported once, above.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    raise SystemExit(asyncio.run(run_async()))
