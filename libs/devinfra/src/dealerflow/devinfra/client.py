"""A small client for a running dealerflow system: the dealer's day in method calls.

The end-to-end tests and the demo drive the six services through this one class, the way
a staff front end (HTTP) and an outside dealer system (Kafka) would, so both exercise the
same public contract: the services' ``/v1`` APIs and the documented events on the topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from dealerflow.contracts.envelope import (
    Envelope,
    EventDecodeError,
    KafkaRecord,
    decode,
    encode_structured,
)
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.kafka_security import environment_client_options

T = TypeVar("T")

#: The standard pre-delivery inspection items sales requires (docs/sales.md).
PDI_ITEMS = ("exterior", "interior", "engine_bay", "electrics", "tyres", "fluids", "road_test")
#: The documents a delivery hands over (DOMAIN.md 2), all prepared.
DELIVERY_DOCUMENTS = (
    "certificate_of_conformity",
    "invoice",
    "maintenance_manual",
    "warranty_card",
    "keys",
)

Json = dict[str, Any]


class ApiError(RuntimeError):
    """An HTTP call answered with an error status (the problem details are kept)."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> {status}: {body[:500]}")
        self.status = status
        self.body = body


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 30.0,
    interval_s: float = 0.25,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy; raise after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


class DealerflowClient:
    """HTTP calls to the six services plus an outside system's Kafka producer.

    ``kafka_options``: SASL/TLS arguments of its Kafka clients
    (:func:`dealerflow.runtime.kafka_security.kafka_client_options`); default: those of
    the ``DEALERFLOW_KAFKA_*`` environment. ``token``: the bearer token every HTTP call
    sends (e.g. ``DevIssuer.for_profile("dev").token(...)``).
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        kafka_bootstrap: str,
        topics: TopicRegistry,
        timeout_s: float = 10.0,
        kafka_options: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> None:
        self.urls = dict(urls)
        self.kafka_bootstrap = kafka_bootstrap
        self.kafka_options = dict(
            environment_client_options() if kafka_options is None else kafka_options
        )
        self.topics = topics
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(timeout=timeout_s, headers=headers)
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> DealerflowClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client and the producer."""
        await self._http.aclose()
        if self._producer is not None:
            await self._producer.stop()

    # -- plumbing ------------------------------------------------------------------------

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        """One HTTP call; raises :class:`ApiError` unless the status is in ``expect``."""
        url = self.urls[service] + path

        async def send() -> httpx.Response:
            return await self._http.request(
                method,
                url,
                json=json_body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=dict(headers or {}),
                content=content,
            )

        try:
            response = await send()
        except httpx.RemoteProtocolError:
            # the server closed a kept-alive connection as this request reused it (uvicorn
            # drops idle ones after 5 s): a read is safe to send once more
            if method.upper() not in {"GET", "HEAD"}:
                raise
            response = await send()
        if response.status_code not in expect:
            raise ApiError(method, url, response.status_code, response.text)
        return response.json() if response.content else None

    async def producer(self) -> AIOKafkaProducer:
        """An idempotent producer, as an outside dealer system would use."""
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self.kafka_bootstrap,
                enable_idempotence=True,
                acks="all",
                **self.kafka_options,
            )
            await self._producer.start()
        return self._producer

    async def reset_producer(self, timeout_s: float = 10.0) -> None:
        """Drop the producer (stopped, at most ``timeout_s`` spent on it): the next
        publish starts a new one, as an outside system restarts a stuck client."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout_s)

    async def produce(self, topic: str, record: KafkaRecord) -> None:
        """Publish a record and wait for Kafka's acknowledgement."""
        producer = await self.producer()
        await producer.send_and_wait(
            topic, record.value, key=record.key, headers=list(record.headers)
        )

    # -- dealers -------------------------------------------------------------------------

    async def dealer(self, dealer_id: str) -> Json:
        """The store's configuration (effective, overrides, version; defaults at version 0
        for a store never configured)."""
        result: Json = await self.call("dealers", "GET", f"/v1/dealers/{dealer_id}")
        return result

    async def configure_dealer(
        self,
        dealer_id: str,
        patch: Json,
        *,
        section: str | None = None,
    ) -> Json:
        """Merge patch (RFC 7396) what the store set, whole or one section (profile,
        calendar, rules, people): a DealerConfigured follows when it changes anything."""
        path = f"/v1/dealers/{dealer_id}" + (f"/{section}" if section else "")
        result: Json = await self.call(
            "dealers",
            "PATCH",
            path,
            content=json.dumps(patch).encode(),
            headers={"content-type": "application/merge-patch+json"},
        )
        return result

    async def configure_group(self, group_id: str, patch: Json) -> Json:
        """Merge patch what a dealer group set (its stores inherit it)."""
        result: Json = await self.call(
            "dealers",
            "PATCH",
            f"/v1/dealer-groups/{group_id}",
            content=json.dumps(patch).encode(),
            headers={"content-type": "application/merge-patch+json"},
        )
        return result

    # -- leads ---------------------------------------------------------------------------

    async def set_roster(self, dealer_id: str, consultants: list[str]) -> Json:
        """Make ``consultants`` the dealer's people, all on duty (the dealers service owns
        them), and wait until leads assigns to them; leads' view of its consultants."""
        staff = [{"staff_id": c, "roles": ["consultant"], "on_duty": True} for c in consultants]
        await self.call(
            "dealers", "PUT", f"/v1/dealers/{dealer_id}/people", json_body={"staff": staff}
        )

        async def seen_by_leads() -> Json | None:
            view: Json = await self.call("leads", "GET", f"/v1/dealers/{dealer_id}/consultants")
            ids = sorted(c["consultant_id"] for c in view["consultants"])
            return view if ids == sorted(consultants) else None

        return await eventually(seen_by_leads, what=f"{dealer_id}'s consultants in leads")

    async def submit_lead(
        self,
        dealer_id: str,
        *,
        name: str,
        phone: str,
        channel: str = "online",
        source: str = "website",
        model: str | None = None,
    ) -> Json:
        """POST a JSON lead submission (LeadCreated, or LeadUpdated for a known phone)."""
        body: Json = {
            "dealer_id": dealer_id,
            "channel": channel,
            "source": source,
            "customer": {"name": name, "phones": [phone]},
        }
        if model:
            body["vehicles"] = [{"interest": "buy", "model": model}]
        result: Json = await self.call("leads", "POST", "/v1/leads", json_body=body)
        return result

    async def submit_adf_lead_via_kafka(self, dealer_id: str, adf_xml: str) -> None:
        """A lead portal drops a raw ADF document on ``inbound.leads``."""
        producer = await self.producer()
        await producer.send_and_wait(
            self.topics.name("inbound.leads"),
            adf_xml.encode(),
            headers=[("content-type", b"application/xml"), ("dealer-id", dealer_id.encode())],
        )

    async def log_contact(
        self,
        dealer_id: str,
        lead_id: str,
        *,
        next_contact_at: datetime,
        outcome: str = "reached",
        grade: str | None = None,
    ) -> Json:
        """The consultant logs a call (LeadContacted) and when to call next."""
        body: Json = {
            "channel": "phone",
            "outcome": outcome,
            "next_contact_at": next_contact_at.isoformat(),
        }
        if grade:
            body["grade_after"] = grade
        result: Json = await self.call(
            "leads",
            "POST",
            f"/v1/leads/{lead_id}/contacts",
            params={"dealer_id": dealer_id},
            json_body=body,
        )
        return result

    # -- sales ---------------------------------------------------------------------------

    async def sell_and_deliver(
        self,
        dealer_id: str,
        *,
        name: str,
        phone: str,
        vin: str,
        consultant_id: str,
        model: str = "Aurora X5",
        price: str = "200000.00",
        delivery_on: date,
        headers: Mapping[str, str] | None = None,
    ) -> Json:
        """Sign a contract, take full payment and deliver (VehicleDelivered)."""
        contract = await self.call(
            "sales",
            "POST",
            "/v1/contracts",
            json_body={
                "dealer_id": dealer_id,
                "customer": {
                    "name": name,
                    "phone": phone,
                    "consent": {"service": True, "marketing": False},
                    "address": "上海市浦东新区世纪大道100号",
                    "id_document_verified": True,
                },
                "consultant_id": consultant_id,
                "vehicle": {
                    "model": model,
                    "configuration": "Luxury",
                    "colour": "white",
                    "vin": vin,
                },
                "price": {"amount": price, "currency": "CNY"},
                "payment": {"method": "full_payment"},
                "planned_delivery_on": delivery_on.isoformat(),
            },
        )
        contract_id = contract["contract_id"]
        await self.call(
            "sales",
            "POST",
            f"/v1/contracts/{contract_id}/payments",
            json_body={
                "dealer_id": dealer_id,
                "kind": "full",
                "method": "bank_transfer",
                "amount": {"amount": price, "currency": "CNY"},
            },
        )
        await self.call(
            "sales",
            "PUT",
            f"/v1/contracts/{contract_id}/pdi",
            headers=headers,
            json_body={
                "dealer_id": dealer_id,
                "inspector_id": consultant_id,
                "inspected_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                "items": [{"item": item, "passed": True} for item in PDI_ITEMS],
            },
        )
        delivered: Json = await self.call(
            "sales",
            "POST",
            f"/v1/contracts/{contract_id}/deliver",
            headers=headers,
            json_body={
                "dealer_id": dealer_id,
                "checklist": {"documents": list(DELIVERY_DOCUMENTS)},
                "odometer_km": 12,
            },
        )
        return delivered

    async def publish_external_event(self, event: DomainEvent, *, event_id: str) -> None:
        """An outside system publishes ``event`` in CloudEvents structured mode."""
        record = encode_structured(event, source="/acme-dms", event_id=event_id)
        await self.produce(self.topics.for_event(event), record)

    # -- service-center ------------------------------------------------------------------

    async def repair_and_hand_over(
        self, dealer_id: str, *, name: str, phone: str, vin: str, advisor_id: str
    ) -> Json:
        """Open a maintenance repair order, finish it, pass QC and hand the car over."""
        order = await self.call(
            "service-center",
            "POST",
            "/v1/repair-orders",
            json_body={
                "dealer_id": dealer_id,
                "customer": {
                    "name": name,
                    "phone": phone,
                    "consent": {"service": True, "marketing": False},
                },
                "vin": vin,
                "model": "Aurora X5",
                "advisor_id": advisor_id,
                "mileage_km": 5000,
                "concerns": ["首保 first maintenance"],
            },
        )
        order_id = order["repair_order_id"]
        base = f"/v1/repair-orders/{order_id}"
        await self.call(
            "service-center",
            "POST",
            base + "/complete",
            json_body={
                "dealer_id": dealer_id,
                "technician_ids": ["tech-sun"],
                "work_summary": "oil and filter",
                "labour_hours": "1.0",
            },
        )
        await self.call(
            "service-center",
            "POST",
            base + "/quality-check",
            json_body={"dealer_id": dealer_id, "inspector_id": "qc-qian", "passed": True},
        )
        handed: Json = await self.call(
            "service-center", "POST", base + "/handover", json_body={"dealer_id": dealer_id}
        )
        return handed

    async def book_service(self, body: Json) -> tuple[int, Json | None]:
        """Book a service appointment (a body of :func:`service_booking`): 201 and the
        booking, or the refusal's status (a full slot: 409) and None."""
        try:
            booked: Json = await self.call(
                "service-center", "POST", "/v1/service-appointments", json_body=body
            )
        except ApiError as exc:
            return exc.status, None
        return 201, booked

    async def stock_part(
        self, dealer_id: str, part_number: str, *, counted: int, reorder_point: int
    ) -> None:
        """Put an oil filter in the dealer's parts catalogue and count ``counted`` on hand
        (the opening stock count)."""
        await self.call(
            "service-center",
            "PUT",
            f"/v1/parts/{part_number}",
            json_body={
                "dealer_id": dealer_id,
                "description": "机油滤清器 Oil filter",
                "category": "common",
                "unit_price": {"amount": "68.00", "currency": "CNY"},
                "reorder_point": reorder_point,
            },
        )
        await self.call(
            "service-center",
            "POST",
            "/v1/stock-counts",
            json_body={
                "dealer_id": dealer_id,
                "counted": [{"part_number": part_number, "counted": counted}],
                "reason": "opening stock",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    # -- complaints ----------------------------------------------------------------------

    async def open_complaint(
        self,
        dealer_id: str,
        *,
        name: str,
        phone: str,
        severity: str = "high",
        summary: str = "Paint scratched at delivery",
        handler_id: str = "handler-zhou",
    ) -> Json:
        """Record a complaint received on the hotline (ComplaintOpened, clocks start)."""
        result: Json = await self.call(
            "complaints",
            "POST",
            "/v1/complaints",
            json_body={
                "dealer_id": dealer_id,
                "contact": {"name": name, "phone": phone},
                "channel": "hotline",
                "category": "after_sales_service",
                "severity": severity,
                "summary": summary,
                "handler_id": handler_id,
            },
        )
        return result

    async def complaint(self, dealer_id: str, complaint_id: str) -> Json:
        """One complaint with every clock."""
        result: Json = await self.call(
            "complaints",
            "GET",
            f"/v1/complaints/{complaint_id}",
            params={"dealer_id": dealer_id},
        )
        return result

    async def complaints(self, dealer_id: str, **filters: Any) -> list[Json]:
        """The dealer's complaints (first page)."""
        page = await self.call(
            "complaints", "GET", "/v1/complaints", params={"dealer_id": dealer_id, **filters}
        )
        items: list[Json] = page["items"]
        return items

    async def acknowledge(self, dealer_id: str, complaint_id: str) -> Json:
        """The handler tells the customer the complaint is being handled."""
        result: Json = await self.call(
            "complaints",
            "POST",
            f"/v1/complaints/{complaint_id}/acknowledge",
            json_body={"dealer_id": dealer_id, "channel": "phone"},
        )
        return result

    async def resolve(self, dealer_id: str, complaint_id: str) -> Json:
        """The complaint is resolved (every running clock stops)."""
        result: Json = await self.call(
            "complaints",
            "POST",
            f"/v1/complaints/{complaint_id}/resolve",
            json_body={
                "dealer_id": dealer_id,
                "responsibility": "dealer",
                "measures": ["Repainted the panel at our cost"],
                "resolution": "Panel repainted, customer satisfied with the repair",
            },
        )
        return result

    # -- notifier ------------------------------------------------------------------------

    async def tasks(self, dealer_id: str, **filters: Any) -> list[Json]:
        """The dealer's tasks (every page), oldest due first."""
        items: list[Json] = []
        cursor: str | None = None
        while True:
            page = await self.call(
                "notifier",
                "GET",
                "/v1/tasks",
                params={"dealer_id": dealer_id, "limit": 200, "cursor": cursor, **filters},
            )
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def complete_task(
        self, dealer_id: str, task_id: str, *, outcome: str, note: str | None = None
    ) -> Json:
        """Staff record a task's outcome (TaskCompleted)."""
        body: Json = {"outcome": outcome}
        if note:
            body["note"] = note
        result: Json = await self.call(
            "notifier",
            "POST",
            f"/v1/tasks/{task_id}/complete",
            params={"dealer_id": dealer_id},
            json_body=body,
        )
        return result

    async def reminders(self, dealer_id: str, customer_id: str | None = None) -> list[Json]:
        """Planned customer messages."""
        page = await self.call(
            "notifier",
            "GET",
            "/v1/reminders",
            params={"dealer_id": dealer_id, "customer_id": customer_id, "limit": 200},
        )
        items: list[Json] = page["items"]
        return items

    async def notifications(self, dealer_id: str, customer_id: str | None = None) -> list[Json]:
        """Messages sent (or suppressed) to customers and staff."""
        page = await self.call(
            "notifier",
            "GET",
            "/v1/notifications",
            params={"dealer_id": dealer_id, "customer_id": customer_id, "limit": 200},
        )
        items: list[Json] = page["items"]
        return items


def service_booking(dealer_id: str, vin: str, start: datetime, phone: str) -> Json:
    """The body of an online maintenance booking at ``start`` (for ``book_service``)."""
    return {
        "dealer_id": dealer_id,
        "customer": {
            "name": "赵敏",
            "phone": phone,
            "consent": {"service": True, "marketing": False},
        },
        "vin": vin,
        "work_type": "maintenance",
        "intake_channel": "online",
        "slot_start": start.isoformat(),
        "concerns": ["30000 km 保养"],
    }


def new_event_id() -> str:
    """A fresh CloudEvents id."""
    return str(uuid.uuid4())


def parse_time(value: str) -> datetime:
    """An ISO timestamp from the APIs."""
    return datetime.fromisoformat(value)


def pretty(data: Any) -> str:
    """JSON for messages."""
    return json.dumps(data, ensure_ascii=False, default=str)


class TopicReader:
    """Reads one topic from its beginning as an outside observer: every partition, no
    consumer group, no commits. ``records`` keeps everything read so far.
    ``client_options``: SASL/TLS (default: the ``DEALERFLOW_KAFKA_*`` environment's)."""

    def __init__(
        self, bootstrap: str, topic: str, *, client_options: Mapping[str, Any] | None = None
    ) -> None:
        self.topic = topic
        self.records: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            **(environment_client_options() if client_options is None else client_options),
        )
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        """Connect and seek every partition of the topic to its beginning."""
        await self._consumer.start()
        # fetched metadata: the consumer's cached view may not know the topic yet
        cluster = await self._consumer._client.fetch_all_metadata()
        found = cluster.partitions_for_topic(self.topic)
        if not found:
            await self._consumer.stop()
            raise LookupError(f"topic {self.topic!r} does not exist")
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)

    async def stop(self) -> None:
        """Disconnect."""
        await self._consumer.stop()

    async def __aenter__(self) -> TopicReader:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def poll(self, timeout_ms: int = 200) -> list[Any]:
        """Read what has arrived (waiting up to ``timeout_ms``); returns the new records."""
        batch = await self._consumer.getmany(*self._partitions, timeout_ms=timeout_ms)
        new = [record for records in batch.values() for record in records]
        self.records.extend(new)
        return new

    async def to_end(self, *, timeout_s: float = 2.0) -> list[Any]:
        """Read up to the end offsets the topic has now (for at most ``timeout_s``);
        returns every record read so far below them, in partition order."""
        end = await self._consumer.end_offsets(self._partitions)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            behind = [tp for tp in self._partitions if await self._consumer.position(tp) < end[tp]]
            if not behind:
                break
            await self.poll()
        below = [r for r in self.records if r.offset < end[TopicPartition(r.topic, r.partition)]]
        return sorted(below, key=lambda r: (r.partition, r.offset))

    async def until(
        self, done: Callable[[list[Any]], bool], *, what: str, within_s: float = 30.0
    ) -> list[Any]:
        """Read until ``done(records)`` holds; every record so far. Fails after ``within_s``."""

        async def probe() -> bool:
            await self.poll()
            return done(self.records)

        await eventually(probe, timeout_s=within_s, what=what)
        return list(self.records)

    def events(self) -> list[Envelope[DomainEvent]]:
        """The records read so far, decoded."""
        return [decode(r.value, r.headers) for r in self.records]


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    dealer_id: str | None = None,
    timeout_s: float = 5.0,
) -> list[tuple[Envelope[DomainEvent] | None, Any]]:
    """Everything on ``topic`` now (decoded when possible), optionally for one dealer."""
    async with TopicReader(bootstrap, topic) as reader:
        records = await reader.to_end(timeout_s=timeout_s)
    found: list[tuple[Envelope[DomainEvent] | None, Any]] = []
    for record in records:
        try:
            env: Envelope[DomainEvent] | None = decode(record.value, record.headers)
        except EventDecodeError:
            env = None
        if dealer_id is None or (env is not None and env.meta.dealer_id == dealer_id):
            found.append((env, record))
    return found


async def events_of(
    bootstrap: str, topic: str, dealer_id: str, event_name: str
) -> list[Envelope[DomainEvent]]:
    """Decoded events named ``event_name`` of ``dealer_id`` on ``topic``."""
    return [
        env
        for env, _ in await read_topic(bootstrap, topic, dealer_id=dealer_id)
        if env is not None and type(env.event).__name__ == event_name
    ]
