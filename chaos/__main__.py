"""``python -m chaos``: the chaos suite against the test infrastructure (``make chaos``).

Starts the six services in a run of their own, runs the chosen scenarios with a seeded
load, prints a figure table per scenario and exits 1 when any has lost, duplicated or
early effects. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import time
import traceback
from collections.abc import Sequence

from chaos.harness import (
    DEFAULT_CLOCK_SPEED,
    RETENTION_SETTINGS,
    Harness,
    running_harness,
    terminate_as_exit,
)
from chaos.load import SCALES
from chaos.own_infra import own_infrastructure
from chaos.scenario_infra import NEEDS
from chaos.scenarios import ELSEWHERE, SCENARIOS, RunSettings, ScenarioResult


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.splitlines()[0])
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"any of {', '.join(SCENARIOS)} (default: all of them, in that order)",
    )
    p.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default=os.environ.get("CHAOS_SCALE", "short"),
        help="load size: short (CI, a few minutes) or full (env CHAOS_SCALE)",
    )
    p.add_argument("--seed", type=int, default=None, help="the run's seed (default: random)")
    p.add_argument(
        "--kill-rounds",
        type=int,
        default=None,
        help="kill -9 of every service this many times (default: short 1, full 3)",
    )
    p.add_argument(
        "--soak-minutes",
        type=float,
        default=None,
        help="soak: wall minutes of load (default: short 3, full 30)",
    )
    p.add_argument(
        "--sample-s",
        type=float,
        default=None,
        help="soak: seconds between samples (default: short 15, full 60)",
    )
    p.add_argument(
        "--retention-days",
        type=float,
        default=None,
        help="the purge's retentions, days of the services' clock, for the inbox, "
        "idempotency keys and timers alike (default: short 2, full the services' own: "
        "14, 7, 30)",
    )
    p.add_argument("--clock-speed", type=float, default=DEFAULT_CLOCK_SPEED)
    p.add_argument("--keep", action="store_true", help="keep the run's topics and schemas")
    p.add_argument(
        "--infra-kafka-port",
        type=int,
        default=_env_port("CHAOS_INFRA_KAFKA_PORT"),
        help="infra-kill9/links: their own broker's port, the controller's next to it "
        "(default: free ports; env CHAOS_INFRA_KAFKA_PORT)",
    )
    p.add_argument(
        "--infra-pg-port",
        type=int,
        default=_env_port("CHAOS_INFRA_PG_PORT"),
        help="infra-kill9/links: their own PostgreSQL's port (default: a free port; env "
        "CHAOS_INFRA_PG_PORT)",
    )
    return p


def _env_port(name: str) -> int | None:
    raw = os.environ.get(name)
    return int(raw) if raw else None


def run_suite(
    names: Sequence[str],
    *,
    scale: str = "short",
    seed: int | None = None,
    kill_rounds: int | None = None,
    soak_minutes: float | None = None,
    sample_s: float | None = None,
    retention_days: float | None = None,
    clock_speed: float = DEFAULT_CLOCK_SPEED,
    keep: bool = False,
    kafka_bootstrap: str | None = None,
    pg_dsn: str | None = None,
    infra_kafka_port: int | None = None,
    infra_pg_port: int | None = None,
) -> list[ScenarioResult]:
    """Start the stack, run the scenarios ``names`` in turn on it, print their tables.
    The scenarios in :data:`~chaos.scenario_infra.NEEDS` run each on a stack of its own
    on infrastructure of its own (ports ``infra_*_port``, free ones by default)."""
    seed = random.SystemRandom().randrange(1 << 31) if seed is None else seed
    full = scale == "full"
    rounds = kill_rounds if kill_rounds is not None else (3 if full else 1)
    minutes = soak_minutes if soak_minutes is not None else (30.0 if full else 3.0)
    every = sample_s if sample_s is not None else (60.0 if full else 15.0)
    # the short run lasts minutes: 2 days pass in 24 s at x7200, so its purges run too
    days = retention_days if retention_days is not None else (None if full else 2.0)
    service_env = {name: f"{days:g}" for name in RETENTION_SETTINGS} if days else {}
    retention = "the services' defaults" if days is None else f"{days:g} days"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"chaos: scenarios {', '.join(names)}, scale {scale}, seed {seed} "
        f"(python -m chaos --seed {seed} to replay), clock x{clock_speed:g}, "
        f"retention {retention}, {platform.node()} {os.cpu_count()} cpus, load average {load}",
        flush=True,
    )
    results: dict[int, ScenarioResult] = {}
    started = time.monotonic()

    def run(harness: Harness, index: int) -> None:
        name = names[index]
        settings = RunSettings(
            SCALES[scale], seed + index, kill_rounds=rounds, soak_minutes=minutes, sample_s=every
        )
        try:
            result = asyncio.run(SCENARIOS[name](harness, settings))
        except Exception as exc:  # a broken scenario fails alone; the others still run
            traceback.print_exc()
            result = ScenarioResult.crashed(name, settings.seed, exc)
        results[index] = result
        print(result.table(), flush=True)
        if not result.ok:
            print(f"chaos: {name} failed; the services' logs: {harness.log_dir}", flush=True)

    shared = [i for i, name in enumerate(names) if name not in NEEDS]
    if shared:
        with running_harness(
            kafka_bootstrap=kafka_bootstrap,
            pg_dsn=pg_dsn,
            clock_speed=clock_speed,
            keep=keep,
            extra_env=service_env,
        ) as harness:
            print(
                f"chaos: stack ready in {time.monotonic() - started:.0f} s, logs {harness.log_dir}"
            )
            for index in shared:
                run(harness, index)
    for index in (i for i, name in enumerate(names) if name in NEEDS):
        ready = time.monotonic()
        with (
            own_infrastructure(
                proxied=NEEDS[names[index]].proxied,
                kafka_port=infra_kafka_port,
                pg_port=infra_pg_port,
            ) as infra,
            running_harness(
                clock_speed=clock_speed, keep=keep, infra=infra, extra_env=service_env
            ) as harness,
        ):
            print(
                f"chaos: {names[index]}: own Kafka {infra.kafka_bootstrap}, PostgreSQL "
                f"port {infra.cfg.pg_port}, {len(infra.links)} proxied links; stack ready in "
                f"{time.monotonic() - ready:.0f} s, logs {harness.log_dir}",
                flush=True,
            )
            run(harness, index)
    print(f"chaos: {time.monotonic() - started:.0f} s in all; not run here: {ELSEWHERE}")
    return [results[i] for i in sorted(results)]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    unknown = [n for n in args.scenarios if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
        return 2
    with terminate_as_exit():  # SIGTERM stops the services and removes own infrastructure
        results = _run(args)
    return 0 if all(r.ok for r in results) else 1


def _run(args: argparse.Namespace) -> list[ScenarioResult]:
    return run_suite(
        args.scenarios or list(SCENARIOS),
        scale=args.scale,
        seed=args.seed,
        kill_rounds=args.kill_rounds,
        soak_minutes=args.soak_minutes,
        sample_s=args.sample_s,
        retention_days=args.retention_days,
        clock_speed=args.clock_speed,
        keep=args.keep,
        infra_kafka_port=args.infra_kafka_port,
        infra_pg_port=args.infra_pg_port,
    )


if __name__ == "__main__":
    sys.exit(main())
