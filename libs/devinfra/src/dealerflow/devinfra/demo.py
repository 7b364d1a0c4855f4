"""``make demo``: a day at a 4S store, played against the running system.

The services run with an accelerated clock (``DEALERFLOW_CLOCK_SPEED``, 3600 by default:
an hour of schedule per second). The demo acts as the store's staff (HTTP) and as outside
systems (a lead portal and a DMS publishing on Kafka), and prints every event the six
services publish as it happens, then a summary of tasks, reminders and complaints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, TopicPartition

from dealerflow.contracts.envelope import EventDecodeError, decode
from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.topics import CONTEXTS, TopicRegistry
from dealerflow.devinfra.client import (
    DELIVERY_DOCUMENTS,
    PDI_ITEMS,
    DealerflowClient,
    eventually,
    new_event_id,
)
from dealerflow.devinfra.config import resolve_config
from dealerflow.devinfra.issuer import DevIssuer
from dealerflow.devinfra.services import SERVICES

LOCAL = ZoneInfo("Asia/Shanghai")
#: Event fields worth a mention in the running log, in this order.
_FIELDS = (
    "kind",
    "channel",
    "severity",
    "consultant_id",
    "assignee_id",
    "level",
    "to_role",
    "outcome",
    "due_at",
    "send_at",
    "clock",
)

ADF_LEAD = """<?xml version="1.0"?>
<?adf version="1.0"?>
<adf>
  <prospect>
    <requestdate>2026-11-24T10:00:00+08:00</requestdate>
    <vehicle interest="buy" status="new"><make>Aurora</make><model>X3</model></vehicle>
    <customer>
      <contact><name part="full">陈静</name><phone type="voice">139 1234 5678</phone></contact>
    </customer>
    <provider><name>Autohome</name></provider>
  </prospect>
</adf>
"""


class Clock:
    """The services' accelerated clock, as they compute it."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start
        self.speed = speed

    def now(self) -> datetime:
        """Services' now."""
        return self.start + (datetime.now(UTC) - self.start) * self.speed

    def seconds_until(self, at: datetime) -> float:
        """Real seconds until the services' clock reaches ``at``."""
        return (at - self.now()).total_seconds() / self.speed

    @staticmethod
    def show(at: datetime) -> str:
        """A timestamp in the dealer's local time."""
        return at.astimezone(LOCAL).strftime("%a %m-%d %H:%M")


class Demo:
    """Plays the day and tails the topics."""

    def __init__(self, client: DealerflowClient, clock: Clock, dealer_id: str) -> None:
        self.client = client
        self.clock = clock
        self.dealer_id = dealer_id
        self.counts: Counter[str] = Counter()
        self.dead_letters = 0

    def say(self, text: str) -> None:
        """A step of the story."""
        print(f"\n[{self.clock.show(self.clock.now())}] == {text}", flush=True)

    async def tail(self, ready: asyncio.Event) -> None:
        """Print every event of this dealer on every topic (and DLQ) as it arrives."""
        topics = self.client.topics
        names = [topics.name(c) for c in CONTEXTS]
        # No consumer group: the partitions are assigned by hand, so the tail needs no
        # group coordinator (on a freshly formatted broker under load, creating
        # __consumer_offsets for a first group can take longer than the demo waits).
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.client.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            **self.client.kafka_options,
        )
        await consumer.start()
        try:
            cluster = await consumer._client.fetch_all_metadata()
            partitions = [
                TopicPartition(topic, p)
                for topic in (*names, *[topics.dlq(n) for n in names])
                for p in sorted(cluster.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:
                await consumer.position(partition)
            ready.set()
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        self._print_record(record)
        finally:
            await consumer.stop()

    def _print_record(self, record: Any) -> None:
        if record.topic.endswith(".dlq"):
            dealer = dict(record.headers).get("ce_dealerid", b"").decode("utf-8", "replace")
            if dealer in ("", self.dealer_id):  # raw inbound documents carry no dealer
                self.dead_letters += 1
                print(f"   !! dead letter on {record.topic}", flush=True)
            return
        try:
            env = decode(record.value, record.headers)
        except EventDecodeError:
            return
        if env.meta.dealer_id != self.dealer_id:
            return
        name = type(env.event).__name__
        self.counts[name] += 1
        data = env.event.model_dump(mode="json")
        details = []
        for field in _FIELDS:
            value = data.get(field)
            if value in (None, ""):
                continue
            if field.endswith("_at"):
                label = field.removesuffix("_at")
                details.append(f"{label} {self.clock.show(datetime.fromisoformat(value))}")
            else:
                details.append(f"{field}={value}")
        context = record.topic.rsplit(".", 1)[-1]
        when = self.clock.show(env.meta.time)
        print(f"   [{when}] {context:<10} {name:<24} {' '.join(details)}", flush=True)

    async def play(self) -> None:
        """The day's story."""
        c, dealer = self.client, self.dealer_id
        self.say("The store is open: two consultants on duty")
        await c.set_roster(dealer, ["consultant-li", "consultant-wang"])

        self.say("A web lead (online: 15 business minutes to first contact)")
        online = await c.submit_lead(
            dealer, name="张伟", phone="13500135000", channel="online", model="Aurora X5"
        )
        self.say("A walk-in visitor (first call within 24 hours)")
        walk_in = await c.submit_lead(
            dealer, name="刘洋", phone="13400134000", channel="walk_in", source="showroom"
        )
        self.say("A lead portal drops an ADF XML lead on dealerflow.inbound.leads")
        await c.submit_adf_lead_via_kafka(dealer, ADF_LEAD)
        await self._wait_tasks(walk_in["customer_id"], "lead_first_contact")

        self.say(f"{walk_in['consultant_id']} calls the walk-in customer in time")
        await c.log_contact(
            dealer,
            walk_in["lead_id"],
            grade="H",
            next_contact_at=self.clock.now() + timedelta(days=2),
        )
        self.say("Nobody calls the web lead: its SLA breaches and the sales manager is told")
        manager = f"sales-manager:{dealer}"
        await eventually(
            lambda: self._tasks_for(online["customer_id"], assignee=manager),
            timeout_s=60,
            what="the first-contact escalation",
        )

        self.say("...still nobody: at the second breach the lead goes to the other consultant")
        await eventually(
            lambda: self._reassigned(online["lead_id"]),
            timeout_s=90,
            what="the reassignment after the second breach",
        )

        await self._appointment_story()
        await self._showroom_story()

        self.say("The walk-in customer signs, pays in full and takes delivery")
        phone = "+8613400134000"
        await c.sell_and_deliver(
            dealer,
            name="刘洋",
            phone=phone,
            vin="LSVAU2180N2183294",
            consultant_id=walk_in["consultant_id"] or "consultant-li",
            delivery_on=(self.clock.now() + timedelta(days=1)).date(),
        )
        buyer = str(customer_id_for("default", phone))
        await self._wait_tasks(buyer, "delivery_callback")

        self.say("An outside DMS publishes a VehicleDelivered on dealerflow.sales (twice)")
        dms_phone = "+8613900139000"
        dms_customer = customer_id_for("default", dms_phone)
        base = example_for(VehicleDelivered)
        dms_event = base.model_copy(
            update={
                "dealer_id": dealer,
                "customer_id": dms_customer,
                "delivery_id": f"dms-{uuid.uuid4().hex[:8]}",
                "delivered_at": self.clock.now(),
                "occurred_at": self.clock.now(),
                "consultant_id": "consultant-wang",
                "contact": base.contact.model_copy(update={"phone": dms_phone}),
            }
        )
        event_id = new_event_id()
        for _ in range(2):
            await c.publish_external_event(dms_event, event_id=event_id)
        await self._wait_tasks(str(dms_customer), "delivery_callback")

        self.say("Service: a car in for its first maintenance is handed back")
        await c.repair_and_hand_over(
            dealer,
            name="韩梅梅",
            phone="13600136000",
            vin="LSVAU2180N2183296",
            advisor_id="advisor-zhao",
        )
        await self._wait_tasks(
            str(customer_id_for("default", "+8613600136000")), "service_callback"
        )

        self.say("A complaint on the hotline (high: acknowledge within 2 business hours)")
        complaint = await c.open_complaint(dealer, name="赵敏", phone="13300133000")
        self.say("...nobody acknowledges it in time")
        await eventually(
            lambda: self._escalated(str(complaint["id"])),
            timeout_s=90,
            what="the complaint escalation",
        )

        self.say("The 24-hour delivery callback falls due for the buyer")
        callback = await eventually(
            lambda: self._task(buyer, "delivery_callback", status="due"),
            timeout_s=90,
            what="the 24 h callback to fall due",
        )
        self.say("The customer is unhappy: the consultant records 'dissatisfied'")
        await c.complete_task(
            dealer, callback["id"], outcome="dissatisfied", note="Paint scratch at delivery"
        )
        await eventually(
            lambda: self._complaints(buyer), timeout_s=60, what="the automatic complaint"
        )
        await asyncio.sleep(2)  # let the last reactions print

    async def _appointment_story(self) -> None:
        """A phone enquiry: a test drive booked, moved, missed; the invitation declined;
        the lead lost and the loss reviewed by the sales manager."""
        c, dealer = self.client, self.dealer_id
        self.say("A phone enquiry; the consultant books a test drive for this afternoon")
        lead = await c.submit_lead(dealer, name="周杰", phone="13200132000", channel="phone")
        lead_id, customer = lead["lead_id"], lead["customer_id"]
        q = {"dealer_id": dealer}
        base = f"/v1/leads/{lead_id}/appointments"
        at = self.clock.now() + timedelta(hours=4)
        booking = {"purpose": "test_drive", "scheduled_for": at.isoformat(), "appointment_id": "td"}
        await c.call("leads", "POST", base, params=q, json_body=booking)
        self.say("The customer asks to come two hours later: the reminders move with it")
        moved = at + timedelta(hours=2)
        await c.call(
            "leads",
            "POST",
            f"{base}/td/reschedule",
            params=q,
            json_body={"scheduled_for": moved.isoformat(), "reason": "customer asked"},
        )
        await eventually(
            lambda: self._past(moved + timedelta(minutes=30)),
            timeout_s=60,
            what="the test drive's time",
        )
        self.say("...the customer does not come: no-show, the consultant gets a follow-up call")
        await c.call("leads", "POST", f"{base}/td/no-show", params=q, json_body={})
        await self._wait_tasks(customer, "appointment_no_show")
        self.say("On the call the customer declines any new invitation: sales follow-ups stop")
        await c.call(
            "leads",
            "POST",
            f"/v1/leads/{lead_id}/decline-invitation",
            params=q,
            json_body={"reason": "not this year"},
        )
        self.say("The consultant closes the lead as lost; the sales manager reviews it")
        await c.call(
            "leads",
            "POST",
            f"/v1/leads/{lead_id}/lost",
            params=q,
            json_body={"reason": "postponed", "reason_note": "not this year"},
        )
        await self._wait_tasks(customer, "lead_lost_review")
        await c.call(
            "leads",
            "POST",
            f"/v1/leads/{lead_id}/review",
            params=q,
            json_body={"decision": "approve", "note": "follow up next spring"},
        )

    async def _showroom_story(self) -> None:
        """A walk-in family: the visit register and needs analysis, a discount beyond the
        threshold approved by the sales manager, the delivery agreed (the customer's
        reminders) and made (owner care and the plate-registration task)."""
        c, dealer = self.client, self.dealer_id
        phone = "+8613100131000"
        person = {"name": "孙丽", "phone": phone, "consent": {"service": True, "marketing": False}}
        customer = str(customer_id_for("default", phone))

        async def sales(path: str, body: dict[str, Any], method: str = "POST") -> Any:
            return await c.call("sales", method, path, json_body={"dealer_id": dealer, **body})

        self.say("A family walks into the showroom: reception records the visit")
        visit = await sales(
            "/v1/visits",
            {
                "customer": person,
                "consultant_id": "consultant-wang",
                "arrived_at": self.clock.now().isoformat(),
                "party_size": 3,
            },
        )
        lead = await eventually(
            lambda: self._lead_by_phone(phone), timeout_s=60, what="the walk-in lead"
        )
        self.say("Needs analysis: a family SUV, budget 200,000 CNY, 20,000 km a year")
        await sales(
            f"/v1/visits/{visit['visit_id']}/needs",
            {
                "use": "family",
                "budget": {"amount": "200000.00", "currency": "CNY"},
                "body_type": "suv",
                "priorities": ["space", "economy"],
                "urgency": "within_30_days",
                "expected_yearly_km": 20000,
            },
        )
        self.say("A quote with a 6 % discount: beyond the 5 % threshold, the manager decides")
        vehicle = {"model": "Aurora X5", "configuration": "Luxury", "colour": "grey"}
        quote = await sales(
            "/v1/quotes",
            {
                "customer_phone": phone,
                "lead_id": lead["lead_id"],
                "consultant_id": "consultant-wang",
                "vehicle": vehicle,
                "vehicle_price": "200000.00",
                "discount": "12000.00",
            },
        )
        await self._wait_tasks(customer, "discount_approval")
        self.say("The sales manager approves the discount: the approval task closes")
        await sales(
            f"/v1/quotes/{quote['quote_id']}/approval",
            {"decision": "approve", "note": "family referral, second car"},
        )
        await eventually(
            lambda: self._task(customer, "discount_approval", status="cancelled"),
            timeout_s=60,
            what="the approval task closed",
        )
        self.say("Signed on the approved quote and paid; the handover agreed for 15:00")
        contract = await sales(
            "/v1/contracts",
            {
                "quote_id": quote["quote_id"],
                "lead_id": lead["lead_id"],
                "customer": {**person, "address": "上海市徐汇区漕溪北路1号"}
                | {"id_document_verified": True},
                "consultant_id": "consultant-wang",
                "vehicle": {**vehicle, "vin": "LSVAU2180N2183298"},
                "price": {"amount": "188000.00", "currency": "CNY"},
                "payment": {"method": "full_payment"},
                "planned_delivery_on": (self.clock.now() + timedelta(days=1)).date().isoformat(),
            },
        )
        path = f"/v1/contracts/{contract['contract_id']}"
        await sales(
            f"{path}/payments",
            {
                "kind": "full",
                "method": "bank_transfer",
                "amount": {"amount": "188000.00", "currency": "CNY"},
            },
        )
        # the first 15:00 at least 26 h ahead: both reminders (24 h and 2 h before) to come
        earliest = (self.clock.now() + timedelta(hours=26)).astimezone(LOCAL)
        handover = datetime.combine(earliest.date(), time(15, 0), LOCAL)
        if handover < earliest:
            handover += timedelta(days=1)
        await sales(
            f"{path}/deliveries/schedule",
            {"scheduled_for": handover.isoformat(), "location": "Handover bay 1"},
        )
        await eventually(
            lambda: self._reminders(customer, "delivery", 2),
            timeout_s=60,
            what="the delivery reminders",
        )
        self.say("...the customer is reminded the day before and two hours before the handover")
        await eventually(
            lambda: self._reminders(customer, "delivery", 2, status="sent"),
            timeout_s=max(self.clock.seconds_until(handover), 0) + 60,
            what="the delivery reminders sent",
        )
        self.say("PDI passed, documents and keys handed over: owner care and the plate")
        await sales(
            f"{path}/pdi",
            {
                "inspector_id": "tech-7",
                "inspected_at": self.clock.now().isoformat(),
                "items": [{"item": item, "passed": True} for item in PDI_ITEMS],
            },
            method="PUT",
        )
        await sales(
            f"{path}/deliver",
            {"checklist": {"documents": list(DELIVERY_DOCUMENTS)}, "odometer_km": 8},
        )
        await self._wait_tasks(customer, "plate_registration")

    async def _lead_by_phone(self, phone: str) -> dict[str, Any] | None:
        page = await self.client.call(
            "leads", "GET", "/v1/leads", params={"dealer_id": self.dealer_id, "phone": phone}
        )
        return page["items"][0] if page["items"] else None

    async def _reminders(
        self, customer: str, kind: str, count: int, status: str | None = None
    ) -> list[dict[str, Any]] | None:
        found = [
            r
            for r in await self.client.reminders(self.dealer_id, customer)
            if r["kind"] == kind and status in (None, r["status"])
        ]
        return found if len(found) >= count else None

    async def _past(self, moment: datetime) -> bool | None:
        return True if self.clock.now() > moment else None

    async def _reassigned(self, lead_id: str) -> Any:
        detail = await self.client.call(
            "leads", "GET", f"/v1/leads/{lead_id}", params={"dealer_id": self.dealer_id}
        )
        return [a for a in detail["assignments"] if a["reason"] == "sla_breach"] or None

    async def _tasks_for(self, customer: str, *, assignee: str) -> list[dict[str, Any]] | None:
        tasks = await self.client.tasks(self.dealer_id, customer_id=customer)
        return [t for t in tasks if t["assignee"] == assignee] or None

    async def _task(self, customer: str, kind: str, status: str | None = None) -> Any:
        tasks = await self.client.tasks(self.dealer_id, customer_id=customer)
        return next((t for t in tasks if t["kind"] == kind and status in (None, t["status"])), None)

    async def _wait_tasks(self, customer: str, kind: str) -> Any:
        return await eventually(
            lambda: self._task(customer, kind), timeout_s=60, what=f"a {kind} task"
        )

    async def _escalated(self, complaint_id: str) -> dict[str, Any] | None:
        detail = await self.client.complaint(self.dealer_id, complaint_id)
        return detail if detail["escalation_level"] >= 1 else None

    async def _complaints(self, customer: str) -> list[dict[str, Any]] | None:
        return await self.client.complaints(self.dealer_id, customer_id=customer) or None

    async def summary(self) -> None:
        """Tables of what happened."""
        c, dealer = self.client, self.dealer_id
        tasks = await c.tasks(dealer)
        reminders = await c.reminders(dealer)
        notifications = await c.notifications(dealer)
        complaints = await c.complaints(dealer)
        print("\n" + "=" * 78)
        print(f"Summary for dealer {dealer}")
        print("=" * 78)
        print("\nEvents published")
        for name, count in sorted(self.counts.items()):
            print(f"  {name:<28} {count:>3}")
        print(f"  {'dead letters':<28} {self.dead_letters:>3}")
        print("\nStaff tasks")
        print(f"  {'kind':<24} {'assignee':<32} {'status':<10} {'due (local)':<16} outcome")
        for t in tasks:
            due = self.clock.show(datetime.fromisoformat(t["due_at"]))
            print(
                f"  {t['kind']:<24} {t['assignee']:<32} {t['status']:<10} {due:<16} "
                f"{t['outcome'] or ''}"
            )
        print("\nCustomer reminders planned")
        for r in reminders:
            send = self.clock.show(datetime.fromisoformat(r["send_at"]))
            print(f"  {r['kind']:<28} {r.get('channel') or '':<8} {send}  {r.get('status', '')}")
        print(f"\nNotifications recorded: {len(notifications)}")
        print("\nComplaints")
        for cp in complaints:
            origin = cp["origin"].get("kind") or cp["channel"]
            print(
                f"  {cp['summary'][:34]:<36} {cp['severity']:<8} {cp['status']:<10} "
                f"escalation level {cp['escalation_level']}  origin={origin}"
            )


def _stack_file() -> dict[str, Any]:
    path = resolve_config("dev").state_dir / "services" / "stack.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {}


async def run(argv: Sequence[str] | None = None) -> int:
    """Play the demo against the running services (``make up`` first)."""
    parser = argparse.ArgumentParser(prog="python -m dealerflow.devinfra.demo")
    parser.add_argument("--dealer", default=f"demo-{uuid.uuid4().hex[:4]}")
    args = parser.parse_args(argv)
    stack = _stack_file()
    urls = stack.get("urls") or {s.name: f"http://127.0.0.1:{s.port}" for s in SERVICES}
    speed = float(stack.get("clock_speed") or os.environ.get("DEALERFLOW_CLOCK_SPEED", "1"))
    start_raw = stack.get("clock_start")
    start = datetime.fromisoformat(start_raw) if start_raw else datetime.now(UTC)
    if speed < 60:
        print(
            "The services run at real time; the demo needs an accelerated clock. "
            "Run `make demo` (it restarts them with DEALERFLOW_CLOCK_SPEED=3600).",
            file=sys.stderr,
        )
        return 2
    kafka = stack.get("kafka_bootstrap") or resolve_config("dev").kafka_bootstrap
    topics = TopicRegistry(stack.get("topic_prefix") or "dealerflow.")
    clock = Clock(start, speed)
    print(f"dealerflow demo: dealer {args.dealer}, clock x{speed:g} (1 s = {speed / 60:g} min)")
    print("Events are printed as the services publish them: [local time] topic event details")
    # The demo acts as the store's administrator, with a token of the dev profile's
    # issuer (the one `make up` configures the services with).
    token = DevIssuer.for_profile("dev").token(
        sub="demo-admin", roles=["admin"], dealers=[args.dealer]
    )
    async with DealerflowClient(urls, kafka_bootstrap=kafka, topics=topics, token=token) as client:
        demo = Demo(client, clock, args.dealer)
        ready = asyncio.Event()
        tail = asyncio.create_task(demo.tail(ready))
        await asyncio.wait_for(ready.wait(), 30)
        try:
            await demo.play()
            await demo.summary()
        finally:
            tail.cancel()
            await asyncio.gather(tail, return_exceptions=True)
    return 0


def main() -> None:
    """Entry point."""
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
