"""``dealerflow-dlq``: list and replay dead letters.

    dealerflow-dlq list dealerflow.sales [--bootstrap HOST:PORT] [--limit N]
    dealerflow-dlq replay dealerflow.sales --offset N [--partition P]
    dealerflow-dlq replay dealerflow.sales --all

``<topic>`` is the original topic or its ``.dlq`` topic. ``--bootstrap`` defaults to
``$DEALERFLOW_KAFKA_BOOTSTRAP`` or 127.0.0.1:9092. Offsets are offsets in the DLQ topic
(shown by ``list``). SASL/TLS come from the $DEALERFLOW_KAFKA_SECURITY_PROTOCOL,
_SASL_* and _SSL_* variables (docs/operations.md, "Kafka security").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from dealerflow.runtime.dlq import (
    DeadLetter,
    dlq_topic_for,
    mask_reason,
    read_dead_letters,
    replay_dead_letters,
)
from dealerflow.runtime.kafka_security import environment_client_options

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dealerflow-dlq", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP", DEFAULT_BOOTSTRAP),
        help="Kafka bootstrap servers (default: $DEALERFLOW_KAFKA_BOOTSTRAP or %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    list_cmd = sub.add_parser("list", help="print dead letters of a topic")
    list_cmd.add_argument("topic", help="original topic or its .dlq topic")
    list_cmd.add_argument("--bootstrap", default=argparse.SUPPRESS)
    list_cmd.add_argument("--limit", type=int, default=100)
    list_cmd.add_argument("--partition", type=int, default=None, help="DLQ partition only")

    replay = sub.add_parser("replay", help="republish dead letters to their original topic")
    replay.add_argument("topic", help="original topic or its .dlq topic")
    replay.add_argument("--bootstrap", default=argparse.SUPPRESS)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--offset", type=int, help="DLQ offset of the one letter to replay")
    which.add_argument("--all", action="store_true", help="replay every letter")
    replay.add_argument("--partition", type=int, default=None, help="DLQ partition of --offset")
    return parser


def _format(letter: DeadLetter) -> str:
    """One line per letter. The type and reason are masked again (strictly): a letter
    written by an older version or another producer may carry a phone number."""
    return "\t".join(
        [
            f"{letter.dlq_partition}:{letter.dlq_offset}",
            f"{letter.original_topic}/{letter.original_partition}@{letter.original_offset}",
            _one_line(letter.ce_type or "-"),
            _one_line(letter.error or "-"),
        ]
    )


def _one_line(text: str) -> str:
    return mask_reason(" ".join(text.split()))


async def _list(args: argparse.Namespace, out: TextIO) -> int:
    letters = await read_dead_letters(
        args.bootstrap,
        dlq_topic_for(args.topic),
        limit=args.limit,
        partition=args.partition,
        client_options=args.client_options,
    )
    out.write("dlq partition:offset\toriginal topic/partition@offset\tce_type\terror\n")
    for letter in letters:
        out.write(_format(letter) + "\n")
    out.write(f"{len(letters)} dead letter(s)\n")
    return 0


async def _replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    dlq_topic = dlq_topic_for(args.topic)
    letters = await read_dead_letters(
        args.bootstrap, dlq_topic, partition=args.partition, client_options=args.client_options
    )
    if not args.all:
        letters = [d for d in letters if d.dlq_offset == args.offset]
        if not letters:
            err.write(f"no dead letter at offset {args.offset} in {dlq_topic}\n")
            return 1
        if len(letters) > 1:
            err.write(
                f"offset {args.offset} exists in partitions "
                f"{sorted(d.dlq_partition for d in letters)}; pass --partition\n"
            )
            return 2
    done = await replay_dead_letters(args.bootstrap, letters, client_options=args.client_options)
    for letter in done:
        out.write(f"replayed {_format(letter)}\n")
    skipped = len(letters) - len(done)
    if skipped:
        err.write(f"skipped {skipped} letter(s) without a dlq-original-topic header\n")
    out.write(f"{len(done)} dead letter(s) replayed\n")
    return 0


async def run_async(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the CLI with ``argv`` (without the program name); returns the exit code."""
    args = _parser().parse_args(argv)
    args.client_options = environment_client_options()
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.command == "list":
            return await _list(args, out)
        return await _replay(args, out, err)
    except LookupError as exc:
        err.write(f"{mask_reason(str(exc))}\n")
        return 1


def main() -> None:
    """Console-script entry point ``dealerflow-dlq``."""
    raise SystemExit(asyncio.run(run_async()))
