"""Expected effects computed from what the load sent, observed on the Kafka topics.

An effect is found by its business key (a lead's phone, a VIN, a delivery id, a task
id) and counted once per distinct fact: distinct event ids for events, distinct task ids
for tasks (a task published again on a reassignment is the same task). The same event id
read twice is a redelivery the consumers' inboxes absorb, reported but not a duplicate.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chaos.harness import Harness
from chaos.load import Sent
from dealerflow.contracts.envelope import Envelope
from dealerflow.devinfra.client import read_topic

#: A timer effect observed more than this many wall seconds after its due time is late
#: (reported, not a failure: a killed notifier fires its overdue timers after restart).
LATE_AFTER_S = 20.0


@dataclass
class Row:
    """One line of the figure table."""

    effect: str
    sent: int
    expected: set[str] = field(default_factory=set)
    #: key -> distinct facts observed
    observed: Counter[str] = field(default_factory=Counter)
    early: int = 0
    late: int = 0
    settled_s: float | None = None

    @property
    def lost(self) -> int:
        return sum(1 for key in self.expected if self.observed[key] == 0)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for key, n in self.observed.items() if key in self.expected and n > 1)

    @property
    def found(self) -> int:
        return sum(1 for key in self.expected if self.observed[key] > 0)

    @property
    def complete(self) -> bool:
        return self.lost == 0


@dataclass
class Observation:
    """The rows of one observation, and what was read."""

    rows: list[Row]
    records: int
    redelivered: int

    @property
    def complete(self) -> bool:
        return all(row.complete for row in self.rows)

    def totals(self) -> dict[str, int]:
        return {
            "lost": sum(r.lost for r in self.rows),
            "duplicated": sum(r.duplicated for r in self.rows),
            "early": sum(r.early for r in self.rows),
            "late": sum(r.late for r in self.rows),
        }


def _events(found: Iterable[tuple[Envelope[Any] | None, Any]]) -> list[Envelope[Any]]:
    return [env for env, _ in found if env is not None]


async def observe(harness: Harness, dealer_id: str, sent: Sent) -> Observation:
    """Read every topic of the run and count each expected effect."""
    envs: list[Envelope[Any]] = []
    for context in ("leads", "sales", "service", "notifier"):
        topic = harness.topics.name(context)
        envs.extend(_events(await read_topic(harness.kafka_bootstrap, topic, dealer_id=dealer_id)))
    ids = Counter(env.meta.id for env in envs)
    redelivered = sum(n - 1 for n in ids.values() if n > 1)
    unique: dict[str, Envelope[Any]] = {}
    for env in envs:
        unique.setdefault(env.meta.id, env)
    by_type: dict[str, list[Any]] = defaultdict(list)
    for env in unique.values():
        by_type[type(env.event).__name__].append(env.event)

    leads = {a.key for a in sent.of("lead")}
    deliveries = {a.key for a in sent.of("delivery")}
    repairs = {a.key for a in sent.of("repair")}
    outside = {a.key for a in sent.of("outside_delivery")}
    drives = {a.key for a in sent.of("test_drive")}

    lead_created = Row("leads: LeadCreated", len(leads), set(leads))
    lead_of: dict[str, str] = {}
    for e in by_type["LeadCreated"]:
        phone = e.contact.phone
        if phone in leads:
            lead_created.observed[phone] += 1
            lead_of[str(e.lead_id)] = phone

    delivered = Row("sales: VehicleDelivered", len(deliveries), set(deliveries))
    delivery_of: dict[str, str] = {}  # delivery id or contract id -> VIN
    for e in by_type["VehicleDelivered"]:
        if e.vin in deliveries:
            delivered.observed[e.vin] += 1
            delivery_of[str(e.delivery_id)] = e.vin
            delivery_of[str(e.contract_id)] = e.vin

    handed = Row("service: VehicleHandedOver", len(repairs), set(repairs))
    order_of: dict[str, str] = {}
    for e in by_type["VehicleHandedOver"]:
        if e.vin in repairs:
            handed.observed[e.vin] += 1
            order_of[str(e.repair_order_id)] = e.vin

    first_contact = Row("notifier: first-contact task", len(leads), set(leads))
    callback = Row("notifier: delivery callback", len(deliveries), set(deliveries))
    outside_callback = Row("notifier: outside delivery callback", len(outside), set(outside))
    service_callback = Row("notifier: service callback", len(repairs), set(repairs))
    task_due: dict[str, datetime] = {}
    tasks_seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in by_type["TaskScheduled"]:
        related = str(e.related.id) if e.related is not None else ""
        tid = str(e.task_id)
        if e.kind == "lead_first_contact" and related in lead_of:
            tasks_seen[("fc", lead_of[related])].add(tid)
        elif e.kind == "delivery_callback" and related in delivery_of:
            tasks_seen[("cb", delivery_of[related])].add(tid)
            task_due[tid] = e.due_at
        elif e.kind == "delivery_callback" and related in outside:
            tasks_seen[("ocb", related)].add(tid)
            task_due[tid] = e.due_at
        elif e.kind == "service_callback" and related in order_of:
            tasks_seen[("sc", order_of[related])].add(tid)
    rows_of = {"fc": first_contact, "cb": callback, "ocb": outside_callback, "sc": service_callback}
    for (which, key), task_ids in tasks_seen.items():
        rows_of[which].observed[key] = len(task_ids)

    # the timers: each delivery callback falls due once, at or after its due time
    now = harness.now()
    timers = Row("notifier: callback falls due (timer)", len(task_due))
    timers.expected = {tid for tid, due in task_due.items() if due <= now}
    for e in by_type["TaskDue"]:
        tid = str(e.task_id)
        if tid not in task_due or e.breaches != 1:
            continue
        timers.observed[tid] += 1
        if e.occurred_at < task_due[tid]:
            timers.early += 1
        elif harness.real_seconds((e.occurred_at - task_due[tid]).total_seconds()) > LATE_AFTER_S:
            timers.late += 1
    drive_of = {
        str(e.test_drive_id): e.vehicle_id
        for e in by_type["TestDriveScheduled"]
        if e.vehicle_id in drives
    }
    planned = Row("notifier: test-drive reminder planned", len(drives), set(drives))
    send_at: dict[str, datetime] = {}
    reminders_of: dict[str, set[str]] = defaultdict(set)
    for e in by_type["ReminderScheduled"]:
        related = str(e.related.id) if e.related is not None else ""
        if e.kind == "test_drive" and related in drive_of:
            send_at[str(e.reminder_id)] = e.send_at
            reminders_of[drive_of[related]].add(str(e.reminder_id))
    for key, reminder_ids in reminders_of.items():
        planned.observed[key] = len(reminder_ids)

    # each reminder is sent (or suppressed) once, at or after its send time
    reminders = Row("notifier: reminder sent (timer)", len(send_at))
    reminders.expected = {rid for rid, when in send_at.items() if when <= now}
    sent_ids: set[str] = set()
    outcomes = [(e, e.sent_at) for e in by_type["NotificationSent"]] + [
        (e, e.suppressed_at) for e in by_type["NotificationSuppressed"]
    ]
    for e, at in outcomes:
        rid = str(e.reminder_id) if e.reminder_id else ""
        if rid not in send_at:
            continue
        reminders.observed[rid] += 1
        if type(e).__name__ == "NotificationSent":
            sent_ids.add(str(e.notification_id))
        if at < send_at[rid]:
            reminders.early += 1
        elif harness.real_seconds((at - send_at[rid]).total_seconds()) > LATE_AFTER_S:
            reminders.late += 1

    # ... and each message sent reached the channel driver once (its log line)
    sends = Row("notifier: message at the channel", len(sent_ids), set(sent_ids))
    for nid, count in channel_sends(harness, dealer_id).items():
        if nid in sent_ids:
            sends.observed[nid] = count
    rows = [
        lead_created,
        first_contact,
        delivered,
        callback,
        handed,
        service_callback,
        outside_callback,
        timers,
        planned,
        reminders,
        sends,
    ]
    return Observation(rows, records=len(envs), redelivered=redelivered)


def channel_sends(harness: Harness, dealer_id: str) -> Counter[str]:
    """Messages the notifier's recording channel driver accepted for ``dealer_id``, per
    notification id, from the logs of all its replicas (``notifier.log``,
    ``notifier-<n>.log``, rotated files included): what a gateway would get."""
    found: Counter[str] = Counter()
    for path in sorted(harness.log_dir.glob("notifier*.log*")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"message to ' not in line or dealer_id not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("dealer_id") == dealer_id and entry.get("notification_id"):
                    found[str(entry["notification_id"])] += 1
    return found


def render(title: str, obs: Observation) -> str:
    """The figure table of one scenario."""
    head = ("effect", "sent", "expected", "observed", "lost", "dup", "early", "late", "settle s")
    lines = [
        [
            r.effect,
            str(r.sent),
            str(len(r.expected)),
            str(r.found),
            str(r.lost),
            str(r.duplicated),
            str(r.early),
            str(r.late),
            "-" if r.settled_s is None else f"{r.settled_s:.1f}",
        ]
        for r in obs.rows
    ]
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(head)]

    def fmt(cells: Iterable[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]))
        return "  ".join(out)

    rule = "-" * len(fmt(head))
    totals = obs.totals()
    return "\n".join(
        [
            title,
            rule,
            fmt(head),
            rule,
            *(fmt(line) for line in lines),
            rule,
            f"total: lost {totals['lost']}, duplicated {totals['duplicated']}, "
            f"early {totals['early']}, late {totals['late']} (late: > {LATE_AFTER_S:.0f} s "
            f"wall after due); records read {obs.records}, redelivered (same event id) "
            f"{obs.redelivered}",
        ]
    )
