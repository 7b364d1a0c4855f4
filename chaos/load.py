"""A bounded, realistic mixed load, planned from a seed, and the effects it must have.

- leads over HTTP (``POST /v1/leads``): one LeadCreated and one first-contact task each;
- deliveries through the sales API (contract, full payment, PDI, delivery): one
  VehicleDelivered, one delivery-callback task, and that task's TaskDue once its due time
  (24 h later on the services' clock) has passed, never before;
- repairs through service-center (open, complete, quality check, handover): one
  VehicleHandedOver and one service-callback task each;
- test drives booked through the sales API (a slot three days out, in the dealer's
  afternoon): one reminder planned, sent once when it falls due (never before its
  send time), and one message handed to the channel driver for it;
- outside deliveries on Kafka (an outside DMS, each published twice with the same event
  id: a redelivery): one delivery-callback task each.

Every HTTP step carries an Idempotency-Key and is retried with the same key and body
until it is answered (a service killed mid-request, restarting, or answering 503), as a
well-behaved client would: so what the services do once per request is what we count.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka.errors import KafkaError

from chaos.harness import Harness
from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import (
    DELIVERY_DOCUMENTS,
    PDI_ITEMS,
    ApiError,
    DealerflowClient,
    new_event_id,
)

CONSULTANT = "consultant-chaos"
ADVISOR = "advisor-chaos"
#: How long one step is retried before the load gives up on it (a service that does not
#: come back is the scenario's failure, reported as such).
STEP_DEADLINE_S = 180.0
#: How long one publish of an outside event may wait for the broker's acknowledgement.
PUBLISH_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Scale:
    """How much load a run sends and over how long."""

    leads: int
    deliveries: int
    repairs: int
    outside_deliveries: int
    test_drives: int
    #: The load is spread over this many wall seconds.
    spread_s: float
    #: Concurrent senders.
    workers: int = 3


SCALES = {
    "short": Scale(
        leads=16, deliveries=6, repairs=6, outside_deliveries=6, test_drives=6, spread_s=30
    ),
    "full": Scale(
        leads=200, deliveries=80, repairs=60, outside_deliveries=60, test_drives=60, spread_s=300
    ),
}


@dataclass(frozen=True)
class Action:
    """One unit of load: a lead, a delivery, a repair or an outside delivery."""

    kind: str
    key: str  # the business key its effects are found by (phone, VIN, delivery id)
    at_s: float  # when to send it, wall seconds after the load starts
    number: int


@dataclass
class Sent:
    """What the load sent and what came back."""

    actions: list[Action] = field(default_factory=list)
    done: dict[str, float] = field(default_factory=dict)  # key -> wall time it completed
    failed: dict[str, str] = field(default_factory=dict)  # key -> why it gave up
    retries: int = 0
    finished_at: float = 0.0

    def of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind and a.key in self.done]


def plan(scale: Scale, rng: random.Random, run_tag: int) -> list[Action]:
    """The actions of a run, each at a random moment of the spread, in send order."""
    actions: list[Action] = []
    counts = {
        "lead": scale.leads,
        "delivery": scale.deliveries,
        "repair": scale.repairs,
        "outside_delivery": scale.outside_deliveries,
        "test_drive": scale.test_drives,
    }
    for kind, count in counts.items():
        for number in range(count):
            if kind == "lead":
                key = f"+86139{run_tag:03d}{number:05d}"
            elif kind == "delivery":
                key = f"LSVCH{run_tag:03d}D{number:08d}"
            elif kind == "repair":
                key = f"LSVCH{run_tag:03d}R{number:08d}"
            elif kind == "test_drive":
                key = f"TD-{run_tag:03d}-{number:05d}"  # a fleet vehicle of its own
            else:
                key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            actions.append(Action(kind, key, rng.uniform(0, scale.spread_s), number))
    actions.sort(key=lambda a: a.at_s)
    return actions


SHANGHAI = ZoneInfo("Asia/Shanghai")  # the default dealer's time zone


def local_afternoon(after: datetime) -> datetime:
    """The first 15:00 in Shanghai at or after ``after`` (reminders out of quiet hours)."""
    local = after.astimezone(SHANGHAI)
    slot = datetime.combine(local.date(), dtime(15, 0), SHANGHAI)
    return slot if slot >= local else slot + timedelta(days=1)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True  # refused, reset, timed out: the service is down or was killed
    if isinstance(exc, ApiError):
        return exc.status >= 500 or exc.status == 429
    return False


class LoadDriver:
    """Sends the planned actions to the running stack."""

    def __init__(self, harness: Harness, client: DealerflowClient, dealer_id: str) -> None:
        self.harness = harness
        self.client = client
        self.dealer_id = dealer_id
        self.sent = Sent()

    async def step(
        self,
        service: str,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """One HTTP step, retried with the same key and body until it is answered."""
        headers = {"Idempotency-Key": key} if key else None
        deadline = time.monotonic() + STEP_DEADLINE_S
        delay = 0.2
        while True:
            try:
                return await self.client.call(
                    service, method, path, json_body=body, headers=headers, params=params
                )
            except (httpx.TransportError, ApiError) as exc:
                if not _transient(exc) or time.monotonic() > deadline:
                    raise
                self.sent.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 2.0)

    async def setup(self) -> None:
        """The dealer's people (the consultant leads assign to, the advisor)."""
        staff = [
            {"staff_id": CONSULTANT, "roles": ["consultant"], "on_duty": True},
            {"staff_id": ADVISOR, "roles": ["advisor"], "on_duty": True},
        ]
        await self.step("dealers", "PUT", f"/v1/dealers/{self.dealer_id}/people", {"staff": staff})

    # -- the four kinds of action --------------------------------------------------------

    async def lead(self, action: Action) -> None:
        body = {
            "dealer_id": self.dealer_id,
            "channel": "online",
            "source": "website",
            "customer": {"name": f"顾客{action.number}", "phones": [action.key]},
            "vehicles": [{"interest": "buy", "model": "Aurora X5"}],
        }
        await self.step("leads", "POST", "/v1/leads", body, key=f"lead-{action.key}")

    async def delivery(self, action: Action) -> None:
        d, vin = self.dealer_id, action.key
        price = "200000.00"
        # a month out: a step retried across a restart (tens of seconds, days of the
        # accelerated clock) still plans the delivery in the future
        contract = await self.step(
            "sales",
            "POST",
            "/v1/contracts",
            {
                "dealer_id": d,
                "customer": {
                    "name": f"车主{action.number}",
                    "phone": f"+86137{vin[-8:]}",
                    "consent": {"service": True, "marketing": False},
                    "address": "上海市浦东新区世纪大道100号",
                    "id_document_verified": True,
                },
                "consultant_id": CONSULTANT,
                "vehicle": {
                    "model": "Aurora X5",
                    "configuration": "Luxury",
                    "colour": "white",
                    "vin": vin,
                },
                "price": {"amount": price, "currency": "CNY"},
                "payment": {"method": "full_payment"},
                "planned_delivery_on": (self.harness.now() + timedelta(days=30)).date().isoformat(),
            },
            key=f"contract-{vin}",
        )
        base = f"/v1/contracts/{contract['contract_id']}"
        await self.step(
            "sales",
            "POST",
            base + "/payments",
            {
                "dealer_id": d,
                "kind": "full",
                "method": "bank_transfer",
                "amount": {"amount": price, "currency": "CNY"},
            },
            key=f"payment-{vin}",
        )
        inspected_at = (self.harness.now() - timedelta(minutes=5)).isoformat()
        await self.step(
            "sales",
            "PUT",
            base + "/pdi",
            {
                "dealer_id": d,
                "inspector_id": CONSULTANT,
                "inspected_at": inspected_at,
                "items": [{"item": item, "passed": True} for item in PDI_ITEMS],
            },
            key=f"pdi-{vin}",
        )
        await self.step(
            "sales",
            "POST",
            base + "/deliver",
            {
                "dealer_id": d,
                "checklist": {"documents": list(DELIVERY_DOCUMENTS)},
                "odometer_km": 12,
            },
            key=f"deliver-{vin}",
        )

    async def repair(self, action: Action) -> None:
        d, vin = self.dealer_id, action.key
        order = await self.step(
            "service-center",
            "POST",
            "/v1/repair-orders",
            {
                "dealer_id": d,
                "customer": {
                    "name": f"车主{action.number}",
                    "phone": f"+86136{vin[-8:]}",
                    "consent": {"service": True, "marketing": False},
                },
                "vin": vin,
                "model": "Aurora X5",
                "advisor_id": ADVISOR,
                "mileage_km": 5000,
                "concerns": ["首保 first maintenance"],
            },
            key=f"ro-{vin}",
        )
        base = f"/v1/repair-orders/{order['repair_order_id']}"
        await self.step(
            "service-center",
            "POST",
            base + "/complete",
            {
                "dealer_id": d,
                "technician_ids": ["tech-sun"],
                "work_summary": "oil and filter",
                "labour_hours": "1.0",
            },
            key=f"complete-{vin}",
        )
        await self.step(
            "service-center",
            "POST",
            base + "/quality-check",
            {"dealer_id": d, "inspector_id": "qc-qian", "passed": True},
            key=f"qc-{vin}",
        )
        await self.step(
            "service-center", "POST", base + "/handover", {"dealer_id": d}, key=f"handover-{vin}"
        )

    async def test_drive(self, action: Action) -> None:
        # three days out: a step retried across a restart still books a future slot
        slot = local_afternoon(self.harness.now() + timedelta(days=3))
        await self.step(
            "sales",
            "POST",
            "/v1/test-drives",
            {
                "dealer_id": self.dealer_id,
                "customer": {
                    "name": f"试驾{action.number}",
                    "phone": f"+86134{action.number:08d}",
                    "consent": {"service": True, "marketing": False},
                },
                "vehicle_id": action.key,
                "model": "Aurora X5",
                "consultant_id": CONSULTANT,
                "starts_at": slot.isoformat(),
                "ends_at": (slot + timedelta(hours=1)).isoformat(),
                "licence": {"number": "310101199001011234", "expires_on": "2031-01-01"},
            },
            key=f"drive-{action.key}",
        )

    async def outside_delivery(self, action: Action) -> None:
        phone = f"+86135{action.number:08d}"
        base = example_for(VehicleDelivered)
        now = self.harness.now()
        event = base.model_copy(
            update={
                "dealer_id": self.dealer_id,
                "customer_id": customer_id_for("chaos-dms", phone),
                "delivery_id": action.key,
                "vin": f"LSVXD{action.number:012d}",
                "consultant_id": CONSULTANT,
                "delivered_at": now,
                "occurred_at": now,
                "contact": base.contact.model_copy(update={"phone": phone}),
            }
        )
        event_id = new_event_id()
        for _ in range(2):  # the outside system redelivers it
            await self._publish(event, event_id)

    async def _publish(self, event: VehicleDelivered, event_id: str) -> None:
        """Publish as an outside system does: a send not acknowledged within
        :data:`PUBLISH_TIMEOUT_S` is sent again (the same id) on a new producer, until
        :data:`STEP_DEADLINE_S`. (aiokafka's idempotent producer may stay stuck after a
        broker is killed; waiting on it for ever would stall the load.)"""
        deadline = time.monotonic() + STEP_DEADLINE_S
        while True:
            try:
                sending = self.client.publish_external_event(event, event_id=event_id)
                await asyncio.wait_for(sending, PUBLISH_TIMEOUT_S)
                return
            except (TimeoutError, KafkaError):
                if time.monotonic() > deadline:
                    raise
                self.sent.retries += 1
                await self.client.reset_producer()

    # -- running it ----------------------------------------------------------------------

    async def run(self, actions: list[Action], workers: int) -> Sent:
        """Send ``actions`` at their moments with ``workers`` concurrent senders."""
        self.sent.actions = actions
        queue: asyncio.Queue[Action] = asyncio.Queue()
        for action in actions:
            queue.put_nowait(action)
        start = time.monotonic()

        async def worker() -> None:
            while not queue.empty():
                action = queue.get_nowait()
                wait = action.at_s - (time.monotonic() - start)
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    await getattr(self, action.kind)(action)
                except Exception as exc:
                    self.sent.failed[action.key] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    self.sent.done[action.key] = time.monotonic()

        await asyncio.gather(*(worker() for _ in range(workers)))
        self.sent.finished_at = time.monotonic()
        return self.sent
