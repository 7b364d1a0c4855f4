"""The batch handlers of complaints (contact directory, sales, repair orders) against real
PostgreSQL, fed through the service's own EventConsumer (records built in memory, no
Kafka): a run of N events gives the rows N runs of one give; the newest snapshot wins in
a run; a waiting complaint opens when its contact arrives in a run; one bad event in a
run is dead-lettered and the others are handled; and a run costs the same statements
whatever its length."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from dealerflow.complaints import consumers
from dealerflow.complaints.app import DEFINITION
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import LeadCreated
from dealerflow.contracts.events.notifier import TaskCompleted
from dealerflow.contracts.events.sales import ContractSigned, VehicleDelivered
from dealerflow.contracts.events.service import RepairOrderOpened, VehicleHandedOver
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.service_testing import (
    RunningService,
    consumed_event,
    running_service,
)
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import BatchOutcome, EventConsumer
from dealerflow.runtime.db import create_pool
from dealerflow.runtime.dlq import H_ERROR
from dealerflow.runtime.outbox import decode_headers

pytestmark = pytest.mark.integration

E = TypeVar("E", bound=DomainEvent)

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MARCH = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def customer(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"cbatch:{name}")


def vin_of(tag: str) -> str:
    """A valid VIN of its own for ``tag``."""
    return f"LGXC16DF3N{zlib.crc32(tag.encode()) % 10**7:07d}"


def contact(name: str) -> ContactSnapshot:
    return example_for(LeadCreated).contact.model_copy(update={"name": name})


def lead(dealer: str, who: str, name: str, at: datetime) -> LeadCreated:
    return example_for(LeadCreated).model_copy(
        update={
            "dealer_id": dealer,
            "customer_id": customer(who),
            "lead_id": f"lead-{who}-{name}",
            "occurred_at": at,
            "created_at": at,
            "contact": contact(name),
        }
    )


def signed(dealer: str, who: str, contract: str) -> ContractSigned:
    return example_for(ContractSigned).model_copy(
        update={"dealer_id": dealer, "customer_id": customer(who), "contract_id": contract}
    )


def delivered(
    dealer: str, who: str, contract: str, delivery: str, at: datetime, consultant: str = "c-li-na"
) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer,
            "customer_id": customer(who),
            "contract_id": contract,
            "delivery_id": delivery,
            "vin": vin_of(contract),
            "delivered_at": at,
            "occurred_at": at,
            "consultant_id": consultant,
        }
    )


def at_the_workshop(event_class: type[E], order: str, vehicle: str, **update: Any) -> E:
    """The example ``event_class`` of repair order ``order`` of ``vehicle``'s owner."""
    return example_for(event_class).model_copy(
        update={
            "customer_id": customer(vehicle),
            "repair_order_id": order,
            "vin": vin_of(vehicle),
            **update,
        }
    )


def opened(dealer: str, order: str, vehicle: str, code: str, at: datetime) -> RepairOrderOpened:
    return at_the_workshop(
        RepairOrderOpened,
        order,
        vehicle,
        dealer_id=dealer,
        concerns=[],
        concern_codes=[code],
        opened_at=at,
        occurred_at=at,
    )


def handed_over(dealer: str, order: str, vehicle: str, at: datetime) -> VehicleHandedOver:
    return at_the_workshop(
        VehicleHandedOver, order, vehicle, dealer_id=dealer, handed_over_at=at, occurred_at=at
    )


def dissatisfied(dealer: str, who: str, task: str) -> TaskCompleted:
    return example_for(TaskCompleted).model_copy(
        update={
            "dealer_id": dealer,
            "customer_id": customer(who),
            "task_id": task,
            "outcome": TaskOutcome.DISSATISFIED,
        }
    )


def journey(dealer: str) -> list[DomainEvent]:
    """Events that exercise every batch handler, in runs of several, with repeats: a
    customer's older snapshot after a newer one, a contract delivered twice, a repair
    order opened after its handover and again under a new event id, two repeat repairs,
    and a complaint waiting for its customer's contact."""
    return [
        dissatisfied(dealer, "dora", "task-1"),  # no contact known yet: it waits
        lead(dealer, "ann", "Ann (new)", MARCH + DAY),
        lead(dealer, "bob", "Bob", MARCH),
        lead(dealer, "ann", "Ann (old)", MARCH),  # older: does not replace the newer
        signed(dealer, "ann", "K1"),
        signed(dealer, "bob", "K2"),
        delivered(dealer, "ann", "K1", "dlv-1", MARCH + 21 * DAY),
        delivered(dealer, "ann", "K1", "dlv-1b", MARCH + 22 * DAY, consultant="c-other"),
        delivered(dealer, "cid", "K3", "dlv-3", MARCH + 22 * DAY),  # no contract seen
        opened(dealer, "RO1", "VIN-V", "BRAKE-NOISE", MARCH),
        handed_over(dealer, "RO1", "VIN-V", MARCH + DAY),
        handed_over(dealer, "RO3", "VIN-W", MARCH + 4 * DAY),  # seen before its opening
        opened(dealer, "RO2", "VIN-V", "BRAKE-NOISE", MARCH + 9 * DAY),  # repeats RO1
        opened(dealer, "RO3", "VIN-W", "HVAC", MARCH + 3 * DAY),
        opened(dealer, "RO4", "VIN-W", "HVAC", MARCH + 19 * DAY),  # repeats RO3
        opened(dealer, "RO2", "VIN-V", "BRAKE-NOISE", MARCH + 9 * DAY),  # again, new id
        lead(dealer, "dora", "Dora", MARCH + 2 * DAY),  # opens her waiting complaint
    ]


_ROWS = {
    "customer_contacts": (
        "SELECT customer_id, contact, observed_at, source_type FROM customer_contacts "
        "WHERE dealer_id = $1 ORDER BY customer_id"
    ),
    "customer_sales": (
        "SELECT contract_id, customer_id, model, vin, price_amount, price_currency, "
        "consultant_id, signed_at, delivery_id, delivered_at, cancelled_at "
        "FROM customer_sales WHERE dealer_id = $1 ORDER BY contract_id"
    ),
    "repair_visits": (
        "SELECT repair_order_id, vin, concerns, opened_at, completed_at, customer_id, "
        "advisor_id, work_type FROM repair_visits WHERE dealer_id = $1 ORDER BY repair_order_id"
    ),
    "complaints": (
        "SELECT origin_ref, customer_id, status, channel, category, summary, vin, contact, "
        "origin - 'complaint_id' AS origin FROM complaints WHERE dealer_id = $1 "
        "ORDER BY origin_ref"
    ),
    "awaiting_contact": (
        "SELECT trigger_ref, customer_id FROM awaiting_contact WHERE dealer_id = $1 "
        "ORDER BY trigger_ref"
    ),
    "timers": (
        "SELECT kind, status, due_at, count(*) FROM timers WHERE dealer_id = $1 "
        "GROUP BY kind, status, due_at ORDER BY kind, status, due_at"
    ),
}


async def rows_of(service: RunningService, dealer: str) -> dict[str, list[dict[str, Any]]]:
    """What the dealer's events left in the tables the reactions write (no dealer id,
    no generated ids)."""
    return {
        table: [dict(r) for r in await service.pool.fetch(query, dealer)]
        for table, query in _ROWS.items()
    }


@pytest.fixture
async def service(complaints_settings: ComplaintsSettings) -> AsyncIterator[RunningService]:
    """The complaints service's schema and context, nothing running in the background."""
    async with running_service(
        DEFINITION, complaints_settings, clock=ManualClock(NOW), run_background=False
    ) as running:
        yield running


def reactions(service: RunningService, pool: Any = None) -> EventConsumer:
    """The service's reactions consumer, as the service builds it."""
    ctx = service.ctx
    return EventConsumer(
        name="complaints.reactions",
        router=consumers.router,
        pool=pool or ctx.db,
        settings=ctx.settings,
        clock=ctx.clock,
        topics=ctx.topics,
        source=ctx.source,
        dealers=ctx.dealers,
    )


class Feed:
    """Records of events at increasing offsets, each under an event id of its own."""

    def __init__(self, service: RunningService) -> None:
        self.topics = service.topics
        self.offset = 0

    def records(self, events: Sequence[DomainEvent]) -> list[Any]:
        found = []
        for event in events:
            self.offset += 1
            found.append(consumed_event(self.topics, event, offset=self.offset))
        return found


async def test_a_run_gives_the_rows_its_events_give_one_by_one(service: RunningService) -> None:
    consumer, feed = reactions(service), Feed(service)
    whole = await consumer.process_batch(feed.records(journey("d-run")))
    for event in journey("d-one"):
        await consumer.process_batch(feed.records([event]))

    assert whole == BatchOutcome(handled=len(journey("d-run")))
    in_a_run, one_by_one = await rows_of(service, "d-run"), await rows_of(service, "d-one")
    assert in_a_run == one_by_one
    # and what they are: the newest snapshot, the contract's last delivery with the
    # signing consultant, both repeats, the waiting complaint opened
    newest = {r["customer_id"]: r["source_type"] for r in in_a_run["customer_contacts"]}
    assert newest[customer("ann")].endswith(".VehicleDelivered.v1")  # of 22 March, after her leads
    assert newest[customer("bob")].endswith(".ContractSigned.v1")  # of 10 March, after his lead
    k1 = in_a_run["customer_sales"][0]
    assert (k1["contract_id"], k1["delivery_id"], k1["consultant_id"]) == (
        "K1",
        "dlv-1b",
        "c-li-na",
    )
    assert [r["origin_ref"] for r in in_a_run["complaints"]] == [
        "repeat_repair:RO2",
        "repeat_repair:RO4",
        "task:task-1",
    ]
    assert in_a_run["awaiting_contact"] == []
    assert {r["status"] for r in in_a_run["timers"] if r["kind"] == "complaint.contact_wait"} == {
        "cancelled"
    }


async def test_two_snapshots_of_one_customer_in_a_run_keep_the_newest(
    service: RunningService,
) -> None:
    consumer, feed = reactions(service), Feed(service)
    dealer = "d-snap"
    stored = lead(dealer, "eve", "Eve (stored)", MARCH + 5 * DAY)
    await consumer.process_batch(feed.records([stored]))
    await consumer.process_batch(
        feed.records(
            [
                lead(dealer, "eve", "Eve (older than stored)", MARCH),
                lead(dealer, "fay", "Fay (newest)", MARCH + 2 * DAY),
                lead(dealer, "fay", "Fay (older)", MARCH + DAY),
                lead(dealer, "gus", "Gus (first)", MARCH),
                lead(dealer, "gus", "Gus (as old, later)", MARCH),
            ]
        )
    )

    rows = await service.pool.fetch(
        "SELECT customer_id, contact->>'name' AS name FROM customer_contacts WHERE dealer_id = $1",
        dealer,
    )
    assert {r["customer_id"]: r["name"] for r in rows} == {
        customer("eve"): "Eve (stored)",
        customer("fay"): "Fay (newest)",
        customer("gus"): "Gus (as old, later)",
    }


async def test_a_waiting_complaint_opens_when_its_contact_arrives_in_a_run(
    service: RunningService,
) -> None:
    consumer, feed = reactions(service), Feed(service)
    dealer = "d-wait"
    await consumer.process_batch(feed.records([dissatisfied(dealer, "hal", "task-h")]))
    assert len(await service.pool.fetch("SELECT 1 FROM awaiting_contact")) == 1

    arriving = [
        delivered(dealer, "ida", "K-I", "dlv-i", MARCH),
        delivered(dealer, "hal", "K-H", "dlv-h", MARCH),
        delivered(dealer, "hal", "K-H2", "dlv-h2", MARCH + DAY),
    ]
    records = feed.records(arriving)
    outcome = await consumer.process_batch(records)

    assert outcome == BatchOutcome(handled=3)
    complaints = await service.pool.fetch(
        "SELECT origin_ref, contact->>'name' AS name FROM complaints WHERE dealer_id = $1",
        dealer,
    )
    assert [(r["origin_ref"], r["name"]) for r in complaints] == [("task:task-h", "张伟")]
    assert await service.pool.fetch("SELECT 1 FROM awaiting_contact") == []
    waits = await service.pool.fetch(
        "SELECT status FROM timers WHERE kind = 'complaint.contact_wait'"
    )
    assert [r["status"] for r in waits] == ["cancelled"]
    # ComplaintOpened is caused by the customer's first event of the run
    opened_by = [
        headers.get("ce_causationid")
        for headers in await outbox_headers(service)
        if headers["ce_type"].endswith(".ComplaintOpened.v1")
    ]
    first_of_hal = dict(records[1].headers)["ce_id"].decode()
    assert opened_by == [first_of_hal]


async def outbox_headers(service: RunningService) -> list[dict[str, str]]:
    rows = await service.pool.fetch("SELECT headers FROM outbox ORDER BY id")
    return [{k: v.decode() for k, v in decode_headers(r["headers"])} for r in rows]


async def test_a_run_with_one_bad_event_handles_the_others(service: RunningService) -> None:
    await service.pool.execute(
        """
        CREATE FUNCTION refuse_poisoned_sale() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.contract_id = 'K-POISON' THEN RAISE EXCEPTION 'poisoned sale'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_poisoned_sale BEFORE INSERT OR UPDATE ON customer_sales
            FOR EACH ROW EXECUTE FUNCTION refuse_poisoned_sale();
        """
    )
    consumer, feed = reactions(service), Feed(service)
    dealer = "d-bad"
    contracts = ["K-A", "K-B", "K-POISON", "K-C", "K-D"]
    run = [delivered(dealer, c, c, f"dlv-{c}", MARCH) for c in contracts]

    outcome = await consumer.process_batch(feed.records(run))

    assert outcome == BatchOutcome(handled=4, dead_lettered=1)
    sales = await service.pool.fetch(
        "SELECT contract_id FROM customer_sales WHERE dealer_id = $1 ORDER BY 1", dealer
    )
    assert [r["contract_id"] for r in sales] == ["K-A", "K-B", "K-C", "K-D"]
    # the bad event's contact went with it (its handlers failed together)
    known = await service.pool.fetch(
        "SELECT customer_id FROM customer_contacts WHERE dealer_id = $1", dealer
    )
    assert {r["customer_id"] for r in known} == {customer(c) for c in contracts} - {
        customer("K-POISON")
    }
    letters = await service.pool.fetch("SELECT topic, headers FROM outbox WHERE topic LIKE '%.dlq'")
    assert [r["topic"] for r in letters] == [service.topics.name("sales") + ".dlq"]
    assert "poisoned sale" in dict(decode_headers(letters[0]["headers"]))[H_ERROR].decode()


async def test_a_run_costs_the_same_statements_whatever_its_length(
    service: RunningService,
) -> None:
    """One statement per table per run: 10 and 200 deliveries (each of its own contract
    and customer) are the same number of statements; printed beside the run of one."""
    statements: list[str] = []

    async def log_statements(conn: Any) -> None:
        conn.add_query_logger(lambda q: statements.append(q.query))

    settings = service.ctx.settings
    pool = await create_pool(settings.pg_dsn, settings.db_schema, init=log_statements)
    try:
        consumer, feed = reactions(service, pool), Feed(service)
        counted: dict[int, int] = {}
        for n in (1, 10, 200):
            run = [
                delivered(f"d-n{n}", f"{n}-{i}", f"K-{n}-{i}", f"dlv-{n}-{i}", MARCH)
                for i in range(n)
            ]
            records = feed.records(run)
            statements.clear()
            assert await consumer.process_batch(records) == BatchOutcome(handled=n)
            counted[n] = len(statements)
            touching = sum("customer_sales" in s or "customer_contacts" in s for s in statements)
            print(
                f"{n} VehicleDelivered in one batch: {counted[n]} statements ({touching} "
                f"writing customer_sales/customer_contacts), {counted[n] / n:.2f} per event"
            )
    finally:
        await pool.close()
    assert counted[10] == counted[200]
