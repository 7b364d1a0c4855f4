"""Set-based reactions: the notifier's reactions through its real router and the runtime's
EventConsumer on real PostgreSQL (records built in memory, no Kafka).

The same events give the same rows (tasks, reminders, timers, contact snapshots, tiers,
outbox events; compared without generated ids and times) through one batch of N as
through N batches of one; a repeated fact under a new id creates nothing twice; a batch
where one event fails still handles the others (the runtime retries the batch handler
event by event) and dead-letters the failing one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import LeadCreated
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import VehicleHandedOver
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.contracts.types import Money
from dealerflow.devinfra.service_testing import consumed_event
from dealerflow.notifier import consumers
from dealerflow.runtime.consumer import BatchOutcome, EventConsumer
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.outbox import decode_headers

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the ``db`` fixture's clock
DEALER = "D001"
Db = Any  # the ``db`` fixture (conftest.Db)

DELIVERED_AT = START - timedelta(hours=2)
#: a customer buying three cars: regular, then VIP after the second (vip_min_purchases 2),
#: so the third delivery's 24 h callback comes with the sales manager's courtesy call
THRICE = uuid.UUID("00000000-0000-4000-8000-000000000003")
#: the tables a delivery writes (besides the inbox), emptied between the two paths
#: a customer serviced three times: VIP by its service spend after the second visit, so
#: the third follow-up comes with the service manager's courtesy call
SPENDER = uuid.UUID("00000000-0000-4000-8000-000000000005")
TABLES = (
    "tasks",
    "reminders",
    "timers",
    "outbox",
    "customer_contacts",
    "tier_facts",
    "customer_tiers",
    "inbox",
)


def delivered(n: int, customer: uuid.UUID | None = None) -> VehicleDelivered:
    base = example_for(VehicleDelivered)
    update: dict[str, Any] = {
        "dealer_id": DEALER,
        "customer_id": customer or uuid.UUID(int=1000 + n),
        "occurred_at": DELIVERED_AT + timedelta(minutes=n),
        "delivered_at": DELIVERED_AT + timedelta(minutes=n),
        "delivery_id": f"dlv-{n}",
        "contract_id": f"ct-{n}",
        "consultant_id": f"c-{n % 3}",
    }
    if n % 4 == 3:  # some customers prefer SMS
        update["contact"] = type(base.contact).model_validate(
            {**base.contact.model_dump(), "preferred_channel": "sms"}
        )
    return base.model_copy(update=update)


def handed_over(n: int, customer: uuid.UUID | None = None, paid: str = "270.00") -> Any:
    base = example_for(VehicleHandedOver)
    return base.model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer or uuid.UUID(int=2000 + n),
            "occurred_at": DELIVERED_AT + timedelta(minutes=n),
            "handed_over_at": DELIVERED_AT + timedelta(minutes=n),
            "repair_order_id": f"ro-{n}",
            "advisor_id": f"a-{n % 2}",
            "amount_paid": Money(amount=Decimal(paid), currency="CNY"),
        }
    )


def lead(n: int, referrer: uuid.UUID | None = None) -> Any:
    return example_for(LeadCreated).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(int=3000 + n),
            "occurred_at": DELIVERED_AT + timedelta(minutes=n),
            "created_at": DELIVERED_AT + timedelta(minutes=n),
            "lead_id": f"lead-{n}",
            "submission_id": f"sub-{n}",
            "referrer_customer_id": referrer,
        }
    )


def events() -> list[DomainEvent]:
    """Runs of deliveries, handovers and leads: eight buyers, one of them buying three cars, and
    serviced customers, one of them three times (VIP by its spend after the second), new
    leads, one of them referred."""
    found: list[DomainEvent] = []
    for n in range(10):
        found.append(delivered(n, THRICE if n in (1, 4, 8) else None))
    for n, paid in enumerate(("15000.00", "270.00", "6000.00", "99.00", "100.00", "80.00")):
        found.append(handed_over(n, SPENDER if n in (0, 2, 4) else None, paid))
    found += [delivered(10), delivered(11, THRICE)]
    found += [lead(0), lead(1, referrer=THRICE), lead(2)]
    return found


def reactions(db: Db) -> EventConsumer:
    """The notifier's ``reactions`` consumer (its real router) on the test schema."""
    settings = db.settings.model_copy(
        update={"unknown_dealers": "defaults", "consumer_max_retries": 1}
    )
    return EventConsumer(
        name="notifier.reactions",
        router=consumers.router,
        pool=db.pool,
        settings=settings,
        clock=db.clock,
        topics=TopicRegistry(settings.topic_prefix),
        source="/dealerflow/notifier",
        dealers=EnvironmentDealerConfiguration(settings.policy_overrides),
    )


def records_of(
    consumer: EventConsumer, ids_and_events: Sequence[tuple[str, DomainEvent]]
) -> list[Any]:
    return [
        consumed_event(consumer.topics, e, offset=n, event_id=event_id, source="/tests/dms")
        for n, (event_id, e) in enumerate(ids_and_events)
    ]


async def rows(pool: asyncpg.Pool) -> dict[str, list[Any]]:
    """What the reactions wrote, without generated ids and times (a task's or reminder's
    id is replaced by its business key wherever it appears)."""
    async with pool.acquire() as conn:
        tasks = await conn.fetch("SELECT * FROM tasks")
        reminders = await conn.fetch("SELECT * FROM reminders")
        names = {str(r["id"]): r["business_key"] for r in [*tasks, *reminders]}

        def named(text: str) -> str:
            for generated, key in names.items():
                text = text.replace(generated, f"<{key}>")
            return text

        def plain(r: asyncpg.Record, *drop: str) -> str:
            kept = {k: v for k, v in dict(r).items() if k not in ("id", *drop)}
            return named(json.dumps(kept, sort_keys=True, default=str))

        timers = await conn.fetch(
            "SELECT key, kind, dealer_id, due_at, payload, status FROM timers"
        )
        outbox = await conn.fetch("SELECT topic, key, value, headers FROM outbox")
        published = []
        for o in outbox:
            headers = decode_headers(o["headers"])
            env = decode(o["value"], headers)
            meta = env.meta
            body = env.event.model_dump(mode="json")
            published.append(
                named(
                    json.dumps(
                        {
                            "topic": o["topic"],
                            "key": o["key"].decode() if o["key"] else None,
                            "type": meta.type,
                            "causation": meta.causation_id,
                            "correlation": meta.correlation_id,
                            "subject": meta.subject,
                            "event": body,
                        },
                        sort_keys=True,
                    )
                )
            )
        return {
            "tasks": sorted(plain(r) for r in tasks),
            "reminders": sorted(plain(r) for r in reminders),
            "timers": sorted(
                named(json.dumps(dict(r), sort_keys=True, default=str)) for r in timers
            ),
            "outbox": sorted(published),
            "contacts": sorted(
                plain(r) for r in await conn.fetch("SELECT * FROM customer_contacts")
            ),
            "tier_facts": sorted(plain(r) for r in await conn.fetch("SELECT * FROM tier_facts")),
            "customer_tiers": sorted(
                plain(r) for r in await conn.fetch("SELECT * FROM customer_tiers")
            ),
        }


async def empty(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")


async def one_by_one(consumer: EventConsumer, records: Sequence[Any]) -> list[BatchOutcome]:
    return [await consumer.process_batch([r]) for r in records]


async def test_one_batch_of_n_writes_what_n_batches_of_one_write(db: Db) -> None:
    consumer = reactions(db)
    batch = records_of(consumer, [(f"ev-{n}", e) for n, e in enumerate(events())])

    singles = await one_by_one(consumer, batch)
    assert sum(o.handled for o in singles) == len(batch)
    per_event = await rows(db.pool)
    await empty(db.pool)
    outcome = await consumer.process_batch(batch)
    assert outcome.handled == len(batch)
    assert outcome.dead_lettered == 0
    batched = await rows(db.pool)

    assert batched == per_event
    async with db.pool.acquire() as conn:  # each due timer names its own task
        mismatched = await conn.fetchval(
            """
            SELECT count(*) FROM timers t JOIN tasks k ON k.id = (t.payload->>'task_id')::uuid
            WHERE t.key <> k.dealer_id || ':' || k.business_key
            """
        )
        due = await conn.fetchval("SELECT count(*) FROM timers WHERE kind = 'notifier.task_due'")
    assert (mismatched, due) == (0, len(batched["tasks"]))
    # the reactions really ran: per delivery the 24 h and 7-day callbacks and the plate
    # registration, the insurance and inspection reminders; per handover the follow-up;
    # the courtesy calls of the VIPs' later deliveries and visit
    deliveries = [e for e in events() if isinstance(e, VehicleDelivered)]
    handovers = sum(isinstance(e, VehicleHandedOver) for e in events())
    leads = 3  # a first-contact task each
    assert len(batched["tasks"]) == 3 * len(deliveries) + handovers + 3 + leads
    assert sum('"first_contact' in t or ":first-contact" in t for t in batched["tasks"]) == leads
    assert sum(":courtesy" in t for t in batched["tasks"]) == 3
    assert len([r for r in batched["reminders"] if "delivery" in r or "contract" in r]) == 2 * len(
        deliveries
    )
    assert sum('"referral"' in f for f in batched["tier_facts"]) == 1
    assert sum('"CustomerTierChanged"' in o for o in batched["outbox"]) == 2
    assert len(batched["contacts"]) == len({e.customer_id for e in events()})


async def test_a_repeated_fact_under_a_new_id_creates_nothing_twice(db: Db) -> None:
    consumer = reactions(db)
    first = delivered(1)
    once = records_of(consumer, [("ev-a", first)])
    assert (await consumer.process_batch(once)).handled == 1
    written = await rows(db.pool)
    await empty(db.pool)

    # the same fact again under new ids, in the same batch and in the next one
    twice = records_of(consumer, [("ev-a", first), ("ev-b", first), ("ev-c", delivered(2))])
    outcome = await consumer.process_batch(twice)
    assert outcome.handled == 3
    assert (await consumer.process_batch(records_of(consumer, [("ev-d", first)]))).handled == 1

    again = await rows(db.pool)
    customer = str(first.customer_id)
    for table in ("tasks", "reminders", "tier_facts"):
        assert [r for r in again[table] if customer in r] == written[table], table
    assert sum('"causation": "ev-a"' in o for o in again["outbox"]) == sum(
        '"causation": "ev-a"' in o for o in written["outbox"]
    )
    assert not any(
        '"causation": "ev-b"' in o or '"causation": "ev-d"' in o for o in again["outbox"]
    )


async def test_a_failing_event_is_dead_lettered_and_the_others_are_handled(db: Db) -> None:
    consumer = reactions(db)
    bad = uuid.UUID("00000000-0000-4000-8000-0000000000ba")
    async with db.pool.acquire() as conn:
        # the database refuses this one customer's tasks (as a broken row would)
        await conn.execute(
            f"""
            CREATE FUNCTION refuse_customer() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.customer_id = '{bad}' THEN RAISE EXCEPTION 'refused %', NEW.customer_id;
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_customer BEFORE INSERT ON tasks
                FOR EACH ROW EXECUTE FUNCTION refuse_customer();
            """
        )
    good = [delivered(n) for n in range(4)]
    batch = records_of(
        consumer,
        [
            ("ev-0", good[0]),
            ("ev-1", good[1]),
            ("ev-bad", delivered(9, bad)),
            *[(f"ev-{n}", e) for n, e in enumerate(good[2:], start=2)],
        ],
    )
    outcome = await consumer.process_batch(batch)

    assert (outcome.handled, outcome.dead_lettered) == (4, 1)
    written = await rows(db.pool)
    assert len(written["tasks"]) == 3 * len(good)
    assert not any(str(bad) in t for t in written["tasks"])
    assert not any(str(bad) in c for c in written["contacts"])  # its whole reaction rolled back
    async with db.pool.acquire() as conn:
        dead = await conn.fetch("SELECT headers FROM outbox WHERE topic LIKE '%.dlq'")
        inbox = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox")}
    assert len(dead) == 1
    assert "ev-bad" in json.dumps(json.loads(dead[0]["headers"]))
    assert inbox == {"ev-0", "ev-1", "ev-2", "ev-3"}
