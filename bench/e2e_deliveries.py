"""End-to-end benchmark (a): an outside system's ``VehicleDelivered`` -> the notifier's
reactions committed, with all six services running as processes.

``--deliveries`` events of one dealer (each its own customer, delivery, VIN and phone) are
published in CloudEvents structured mode on the run's sales topic, as an outside DMS
publishes them (``DealerflowClient.publish_external_event``). The clock runs from the
first send to the moment the notifier's inbox holds every event id for its reactions
consumer (each reaction's transaction commits that row with its effects: tasks,
reminders, timers, contact snapshot, tiers, outbox). Every other consumer of the topic
(leads, service-center, complaints) and the notifier's own follow-ups (its TaskScheduled
read back) run at the same time, as they would.

Baseline, same run: the raw ``getmany`` + one-transaction-per-batch loop
(``bench.consumer_raw.raw_loop``) on the same records in a topic of its own, claiming the
inbox rows and writing, per event, **as many rows into as many tables as the notifier
wrote** in this run (measured from the notifier's tables and the outbox's records), one
``unnest`` insert per table per batch.

Correctness (asserted here, and by the smoke test): every event is in the reactions inbox
once; every customer got the same tasks and reminders (by kind) as every other, at least
one task; nothing for anyone else.

Scale-out (``--notifier-replicas 1,2,3``): the measurement is repeated per notifier
process count, each time with fresh deliveries (new customers, VINs, phones). Extra
notifier processes join the stack's consumer groups (:meth:`Harness.add_replicas`, as the
chaos scenario ``rebalance`` runs them); before the clock starts, the reactions and
consent groups are stable with one member per process, each reading partitions of the
topic (:meth:`Harness.wait_for_group`), and the notifier's inbox has stopped growing (the
previous round's follow-ups are done). Each round is checked for exactly-once effects on
its own customers; the baseline runs once, on the first round's records.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import BenchResult, Figure, Infra, progress, render_table
from bench.e2e_reactions import Deliveries, Round, make_events, measure, raw_baseline, wait_quiet
from chaos.harness import Harness
from dealerflow.contracts.events import VehicleDelivered


def _notifiers(count: int) -> str:
    return f"{count} notifier{'s' if count != 1 else ''}"


async def run(
    infra: Infra,
    harness: Harness,
    *,
    deliveries: int,
    replicas: Sequence[int] = (1,),
    profile: Path | None = None,
) -> BenchResult:
    """Run benchmark (a) once per notifier replica count, then its baseline; see the
    module docstring."""
    topic = harness.topics.for_event(VehicleDelivered)
    rounds: list[Round] = []
    batches: list[Deliveries] = []
    try:
        for index, count in enumerate(replicas):
            await _scale_notifier(harness, count)
            described = await harness.wait_for_group("notifier", "reactions", topic)
            await harness.wait_for_group("notifier", "consent", harness.topics.name("notifier"))
            await wait_quiet(harness)  # the previous round's follow-ups are done
            batch = make_events(
                deliveries, harness, f"{infra.run_id}-{index}", offset=index * deliveries
            )
            output = None
            if profile is not None and index == 0:
                output = profile / "deliveries-notifier.txt"
            assignment = {member: list(t.get(topic, ())) for member, t in described.members.items()}
            measured = await measure(infra, harness, batch, assignment, output)
            rounds.append(measured)
            batches.append(batch)
            problems = measured.effects["problems"]
            progress(
                f"e2e deliveries: {_notifiers(count)}: {measured.rate:,.1f} events/s, "
                f"{'exactly once' if not problems else '; '.join(problems)}, "
                f"cores busy {measured.cores}, PostgreSQL connections "
                f"{measured.pg_connections}, load average {measured.loadavg}"
            )
    finally:
        if len(harness.replicas_of("notifier")) > 1:
            await harness.remove_replicas()
    first = rounds[0]
    raw = await raw_baseline(infra, batches[0], first.rows_per_event)
    result = _result(rounds, raw, partitions=sum(map(len, first.assignment.values())))
    problems = [f"{_notifiers(r.replicas)}: {p}" for r in rounds for p in r.effects["problems"]]
    if problems:
        print(render_table(result), flush=True)
        raise AssertionError("; ".join(problems))
    return result


async def _scale_notifier(harness: Harness, count: int) -> None:
    """``count`` notifier processes in its consumer groups (the stack's one + replicas)."""
    if count < len(harness.replicas_of("notifier")):
        await harness.remove_replicas()
    if count > 1:
        await harness.add_replicas({"notifier": count})


def _per_cpu_second(measured: Round) -> float | None:
    used = measured.cores["processes"] * measured.seconds
    return measured.deliveries / used if used else None


def _result(rounds: list[Round], raw: dict[str, Any], *, partitions: int) -> BenchResult:
    first = rounds[0]
    deliveries = first.deliveries
    per_event = sum(first.rows_per_event.values()) + 1  # + the inbox row
    figures = []
    seen: set[int] = set()
    for measured in rounds:
        label = _notifiers(measured.replicas) + (" (again)" if measured.replicas in seen else "")
        seen.add(measured.replicas)
        rate, is_first = measured.rate, measured is first
        figures.append(
            Figure(
                f"{label}: deliveries -> reactions committed",
                rate,
                raw["events_per_s"],
                "events/s",
                target=">= 3,000 and >= 50% of baseline" if is_first else "",
                met=rate >= 3000 and rate >= 0.5 * raw["events_per_s"] if is_first else None,
                note=(
                    "clock from the first send to the last reaction's inbox row (50 ms polls);"
                    " the baseline's from its first batch to its last row"
                    if is_first
                    else ""
                ),
            )
        )
        if not is_first:
            figures.append(
                Figure(
                    f"{label}: gain vs {_notifiers(first.replicas)}",
                    rate,
                    first.rate,
                    "events/s",
                    note=(
                        "the same benchmark, fresh deliveries, the replicas in the notifier's "
                        "consumer groups (each group stable, every member reading the topic) "
                        "before the clock starts; ratio = the gain"
                        if measured is rounds[1]
                        else ""
                    ),
                )
            )
        problems = measured.effects["problems"]
        figures.append(
            Figure(
                f"{label}: events reacted to exactly once",
                measured.effects["reacted"],
                measured.deliveries,
                "events",
                target="all; same effects per customer",
                met=not problems,
                note=(
                    "events with their reactions inbox row; every customer of the round with "
                    "the same tasks and reminders by kind (a delivery_callback each), nothing "
                    "for anyone else" + (f"; {'; '.join(problems)}" if problems else "")
                    if is_first or problems
                    else ""
                ),
            )
        )
        cores = measured.cores
        figures.append(
            Figure(
                f"{label}: deliveries per notifier CPU-second",
                _per_cpu_second(measured),
                None if is_first else _per_cpu_second(first),
                "events",
                note=(
                    "the round's events over the CPU time of all its notifier processes: "
                    "steadier than events/s on a machine busy with other work (ratio: "
                    f"vs {_notifiers(first.replicas)})"
                    if is_first
                    else ""
                ),
            )
        )
        figures.append(
            Figure(
                f"{label}: cores busy (machine)",
                cores["machine"],
                None,
                "cores",
                note=(
                    f"of {os.cpu_count()} during the round: the notifier processes "
                    f"{cores['processes']}, PostgreSQL {cores['postgres']} (every client's), "
                    "the rest the other services, Kafka, the load and other work; "
                    f"{cores['processes_waiting']} notifier processes waiting for a CPU "
                    f"on average; idle just before: the notifier processes "
                    f"{measured.idle_cores['processes']}"
                ),
            )
        )
    figures.insert(1, Figure("wall time", first.seconds, raw["seconds"], "s"))
    figures.append(
        Figure(
            "notifier table scans per delivery, inbox aside",
            first.accesses_per_event["scans"],
            None,
            "scans",
            note=(
                "index + sequential scans of the notifier's tables but the inbox (the "
                "watcher reads it) per delivery while it ran (PostgreSQL statistics; "
                "reactions, their follow-ups, relay, polls): about one statement's read "
                "each; the baseline needs one statement per table per batch"
            ),
        )
    )
    counts = ", ".join(str(r.replicas) for r in rounds)
    return BenchResult(
        name="deliveries",
        title=(
            f"(a) end to end: {deliveries:,} outside VehicleDelivered -> notifier reactions "
            f"committed, six services running ({per_event} rows per event; notifier "
            f"processes {counts}; {partitions} partitions)"
        ),
        baseline=(
            "raw AIOKafkaConsumer.getmany + one transaction per batch (inbox claim + one "
            f"unnest insert per table) writing the same {per_event} rows per event into "
            f"{len(first.rows_per_event)} tables, same records, no services' code, one process"
        ),
        figures=figures,
        params={
            "deliveries": deliveries,
            "partitions": partitions,
            "notifier_replicas": [r.replicas for r in rounds],
        },
        details={
            # the first round's, as before the replicas
            "rows_per_event": first.rows_per_event,
            "tables_before": first.tables_before,
            "tables_after": first.tables_after,
            "outbox_records": first.outbox_records,
            "accesses_per_event": first.accesses_per_event,
            "effects": first.effects,
            "raw": raw,
            "rounds": [
                {**asdict(r), "events_per_s": r.rate, "gain": r.rate / first.rate} for r in rounds
            ],
        },
    )
