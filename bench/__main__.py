"""``python -m bench``: run the dealerflow benchmarks against real Kafka + PostgreSQL.

Figures are printed (and written with ``--json``), never asserted; each is measured next
to a baseline in the same run. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_DSN,
    DEFAULT_KAFKA,
    BenchResult,
    Infra,
    machine_info,
    render_table,
    write_json,
)

BENCHMARKS = ("relay", "consumer", "timers", "deliveries", "leads", "service-timers", "memory")
#: The end-to-end benchmarks: they share one running stack of the six services.
END_TO_END = ("deliveries", "leads", "service-timers", "memory")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "dealerflow benchmarks (relay, consumer, timers; end to end with the services "
            "running: deliveries, leads, service-timers, memory) with same-run baselines"
        ),
    )
    p.add_argument(
        "only",
        nargs="*",
        metavar="BENCH",
        help=f"benchmarks to run, any of {', '.join(BENCHMARKS)} (default: all)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes: the suite in < 1 min")
    p.add_argument("--rows", type=int, help="relay: outbox rows (default 50,000; quick 5,000)")
    p.add_argument("--events", type=int, help="consumer: events (default 20,000; quick 4,000)")
    p.add_argument(
        "--pending",
        type=int,
        nargs="+",
        help="timers: pending timer counts, ascending (default 100000 1000000; quick 10000 "
        "50000); service-timers: the largest",
    )
    p.add_argument(
        "--due",
        type=int,
        help="timers, service-timers: timers falling due at once (default 10,000; quick 1,000)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        help="runs of every measurement, medians reported (default 3; quick 1)",
    )
    end_to_end_sizes: tuple[tuple[str, type, str], ...] = (
        ("--deliveries", int, "deliveries: outside VehicleDelivered (default 10,000; quick 300)"),
        ("--lead-rate", float, "leads: the fixed rate, POSTs/s (default 200; quick 20)"),
        ("--lead-seconds", float, "leads: seconds at the fixed rate (default 10; quick 2)"),
    )
    for flag, kind, text in end_to_end_sizes:
        p.add_argument(flag, type=kind, help=text)
    p.add_argument(
        "--notifier-replicas",
        type=_counts,
        default=[1],
        metavar="N,N,...",
        help="deliveries: notifier process counts, one measurement each in its consumer "
        "groups, fresh deliveries each (default 1; e.g. 1,2,3)",
    )
    p.add_argument(
        "--partitions",
        type=int,
        default=6,
        help="end to end: partitions of every topic of the stack; at least the most "
        "notifier replicas (default %(default)s, the deployments' default)",
    )
    p.add_argument(
        "--sweep",
        type=float,
        nargs="*",
        help="leads: rates of the knee sweep, ascending, 5 s each, stopping past the knee "
        "(default 50 100 150 250 300 400 600; quick 40)",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="end to end: sample the notifier during deliveries and service-timers and leads "
        "during the fixed rate with py-spy (uvx), collapsed stacks to DIR/<bench>-<service>.txt",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--kafka",
        default=os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP", DEFAULT_KAFKA),
        help="Kafka bootstrap (default $DEALERFLOW_KAFKA_BOOTSTRAP or %(default)s)",
    )
    p.add_argument(
        "--dsn",
        default=os.environ.get("DEALERFLOW_PG_MIGRATION_DSN")
        or os.environ.get("DEALERFLOW_PG_DSN", DEFAULT_DSN),
        help="PostgreSQL DSN of a role that creates schemas (default "
        "$DEALERFLOW_PG_MIGRATION_DSN, $DEALERFLOW_PG_DSN or the dev server)",
    )
    return p


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: counts separated by commas") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: counts of at least 1")
    return counts


def _sizes(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "rows": args.rows or (5_000 if quick else 50_000),
        "events": args.events or (4_000 if quick else 20_000),
        "pending": sorted(args.pending or ([10_000, 50_000] if quick else [100_000, 1_000_000])),
        "due": args.due or (1_000 if quick else 10_000),
        "repeat": args.repeat or (1 if quick else 3),
        "lead_s": 1.0 if quick else 2.0,
        "deliveries": args.deliveries or (300 if quick else 10_000),
        "lead_rate": args.lead_rate or (20.0 if quick else 200.0),
        "lead_seconds": args.lead_seconds or (2.0 if quick else 10.0),
        "sweep": sorted(
            args.sweep
            if args.sweep is not None
            else ([40.0] if quick else [50.0, 100.0, 150.0, 250.0, 300.0, 400.0, 600.0])
        ),
        "sweep_seconds": 1.0 if quick else 5.0,
        "notifier_replicas": args.notifier_replicas,
        "partitions": args.partitions,
    }


async def _main(args: argparse.Namespace) -> int:
    selected = args.only or list(BENCHMARKS)
    sizes = _sizes(args)
    infra = Infra(args.kafka, args.dsn)
    results: list[BenchResult] = []
    started = time.perf_counter()
    try:
        machine = await machine_info(infra)
        print(
            f"dealerflow benchmarks, run {infra.run_id}: {machine['date']}, "
            f"{machine['cpus']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
            f"PostgreSQL {machine['postgresql']}, Kafka {machine['kafka']}, "
            f"load average {machine['loadavg_at_start']}",
            flush=True,
        )
        for name in BENCHMARKS:
            if name not in selected or name in END_TO_END:
                continue
            if name == "relay":
                from bench import relay_bench

                result = await relay_bench.run(infra, rows=sizes["rows"], repeat=sizes["repeat"])
            elif name == "consumer":
                from bench import consumer_bench

                result = await consumer_bench.run(
                    infra, events=sizes["events"], repeat=sizes["repeat"]
                )
            else:
                from bench import timers_bench

                result = await timers_bench.run(
                    infra,
                    pending=sizes["pending"],
                    due=sizes["due"],
                    repeat=sizes["repeat"],
                    lead_s=sizes["lead_s"],
                )
            results.append(result)
            print()
            print(render_table(result), flush=True)
        if any(name in END_TO_END for name in selected):
            await _end_to_end(infra, selected, sizes, args.profile, results)
    finally:
        await infra.close()
    total = time.perf_counter() - started
    machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    load = machine["loadavg_at_end"]
    print(f"\n{len(results)} benchmark(s) in {total:.1f} s; load average now {load}")
    if args.json:
        write_json(
            args.json,
            {
                "machine": machine,
                "sizes": sizes,
                "quick": args.quick,
                "seconds": total,
                "results": [r.to_json() for r in results],
            },
        )
        print(f"results written to {args.json}")
    return 0


async def _end_to_end(
    infra: Infra,
    selected: Sequence[str],
    sizes: dict[str, Any],
    profile: str | None,
    results: list[BenchResult],
) -> None:
    """The end-to-end benchmarks on one stack of the six services (started here), each
    table printed and appended to ``results`` as it is done."""
    from bench import e2e_memory
    from bench.e2e_stack import running_services, service_rss

    def done(result: BenchResult) -> None:
        results.append(result)
        print()
        print(render_table(result), flush=True)

    with running_services(infra.kafka, infra.dsn, partitions=sizes["partitions"]) as harness:
        await asyncio.sleep(2.0)  # let the services settle after start-up
        idle = service_rss(harness)
        if "deliveries" in selected:
            from bench import e2e_deliveries

            done(
                await e2e_deliveries.run(
                    infra,
                    harness,
                    deliveries=sizes["deliveries"],
                    replicas=sizes["notifier_replicas"],
                    profile=_under(profile),
                )
            )
        if "leads" in selected:
            from bench import e2e_leads

            done(
                await e2e_leads.run(
                    harness,
                    rate=sizes["lead_rate"],
                    seconds=sizes["lead_seconds"],
                    sweep=sizes["sweep"],
                    sweep_seconds=sizes["sweep_seconds"],
                    profile=_under(profile),
                )
            )
        if "service-timers" in selected:
            from bench import e2e_timers

            done(
                await e2e_timers.run(
                    infra,
                    harness,
                    pending=max(sizes["pending"]),
                    due=sizes["due"],
                    profile=_under(profile),
                )
            )
        if "memory" in selected:
            after = service_rss(harness)
            done(e2e_memory.result(idle, after, e2e_memory.libraries_rss()))


def _under(directory: str | None) -> Path | None:
    return None if directory is None else Path(directory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    if max(args.notifier_replicas) > args.partitions:
        parser.error(
            f"--notifier-replicas {max(args.notifier_replicas)} above --partitions "
            f"{args.partitions}: a consumer group's members beyond the partitions sit idle"
        )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
