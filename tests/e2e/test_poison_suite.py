"""The poison suite (issue 15 item 2): every kind of bad record on every consumed topic.

On each topic some service consumes (the six contexts' topics and ``inbound.leads``) one
key gets, in order, a good record, then for each poison kind the poison record followed by
a good record. Sent in one go, waited for once. Then, per kind and topic:

- dead-lettered: the poison record is on ``<topic>.dlq``, by every consumer of the topic
  for a type no one knows, by the ones that react to the type it names for the rest
  (the others pass over that type unread), with a ``dlq-error`` naming the reason;
- partition moved: the good record sent right after it was handled by every consumer of
  the topic (its id in the inbox of each one that reacts to it, past the committed offset
  of each one that only reads it: a consumer keeps no inbox row for an event it has no
  handler for; none of them dead-lettered it).

Then the dealer of the "dealer unknown" records is configured and their dead letters are
replayed with ``dealerflow-dlq replay``: each brings its effect exactly once (for a lead,
one first-contact task; for a delivery, one delivery callback), however many consumers had
dead-lettered it (each replays a copy; the inbox drops the second).

A figure table (kind x topic) is printed (``pytest -s``) and every cell asserted.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from dealerflow.contracts.envelope import KafkaRecord, encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintOpened
from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.contracts.events.leads import LeadCreated
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import VehicleHandedOver
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.client import DealerflowClient, eventually, new_event_id
from dealerflow.devinfra.services import SERVICES
from dealerflow.leads.consumers import inbox_key as inbound_inbox_key
from dealerflow.runtime import dlq_cli
from dealerflow.runtime.consumer import EventRouter
from dealerflow.runtime.dlq import DeadLetter, read_dead_letters
from tests.e2e.conftest import ISSUER, Stack, started_stack


def _subscriptions() -> dict[str, dict[str, EventRouter | None]]:
    """context -> {inbox name: its router (None for a raw-record consumer)}: what each
    service's definition subscribes to (its Subscription list and the runtime's)."""
    found: dict[str, dict[str, EventRouter | None]] = {}
    ctx = SimpleNamespace(settings=SimpleNamespace(inbound_consumer_enabled=True))
    for spec in SERVICES:
        definition = importlib.import_module(f"{spec.package}.app").DEFINITION
        for sub in definition.all_subscriptions(ctx):
            for context in sub.contexts:
                found.setdefault(context, {})[f"{spec.name}.{sub.name}"] = sub.router
    return found


SUBSCRIPTIONS = _subscriptions()
#: Who consumes which topic.
CONSUMERS: dict[str, set[str]] = {c: set(subs) for c, subs in SUBSCRIPTIONS.items()}


def reactors(context: str, event_class: type[DomainEvent]) -> set[str]:
    """The consumers of ``context`` with a handler for ``event_class`` (the others read
    it and move on: no inbox row)."""
    return {
        name
        for name, router in SUBSCRIPTIONS[context].items()
        if router is None or any(router.handlers_for(event_class))
    }


def _handlers_of_good(context: str) -> set[str]:
    """The consumers that react to the good record of ``context`` (every consumer of the
    raw ``inbound.leads``)."""
    good = GOOD.get(context)
    return CONSUMERS[context] if good is None else reactors(context, good)


#: The good event of each CloudEvents topic (one some consumer reacts to).
GOOD: dict[str, type[DomainEvent]] = {
    "leads": LeadCreated,
    "sales": VehicleDelivered,
    "service": VehicleHandedOver,
    "complaints": ComplaintOpened,
    "notifier": ConsentChanged,
    "dealers": DealerConfigured,
}
#: The kinds, in the order they are sent on each topic (issue 15 item 2's list).
KINDS = (
    "garbage bytes",
    "unknown type",
    "invalid payload",
    "refused",  # schema-valid but a rule refuses it
    "oversize",
    "wrong dealer",  # ce_dealerid (or the declared dealer) is not the payload's dealer
    "dealer unknown",
    "duplicate id",  # the id of an event already handled, a different body
    "future specversion",
    "NUL",
    "deep nesting",
    "far future",
    "far past",
)
#: Poison every consumer of the topic dead-letters: a type no one knows. Every other kind
#: carries the type of the topic's good event in its headers, and only the consumers
#: that react to that type read it (the others pass over a type they have no handler
#: for by its ``ce_type`` header, unread) and dead-letter it.
READ_BY_ALL = ("unknown type",)
#: What the dead-letter reason must say, per kind (lower case).
REASONS: dict[str, tuple[str, ...]] = {
    "garbage bytes": ("eventdecodeerror",),
    "unknown type": ("unknown event type",),
    "invalid payload": ("customer_id",),
    "refused": ("is not a valid dealersettings",),
    "oversize": ("larger than consumer_max_event_bytes",),
    "wrong dealer": ("does not match data.dealer_id",),
    "dealer unknown": ("is unknown to the dealer configuration",),
    "future specversion": ("specversion",),
    "NUL": ("u+0000",),
    "deep nesting": ("nest", "recursion", "depth"),
    "duplicate id": ("with a different body",),
    "far future": ("ahead of the consumer's clock",),
    "far past": ("before 2000-01-01",),
}
INBOUND_REASONS: dict[str, tuple[str, ...]] = {
    "garbage bytes": ("not valid json",),
    "unknown type": ("unsupported content type",),
    "invalid payload": ("invalid lead submission",),
    "refused": ("contact",),
    "oversize": ("too large",),
    "wrong dealer": ("declares dealer",),
    "dealer unknown": ("is unknown to the dealer configuration",),
    "NUL": ("u+0000",),
    "deep nesting": ("nested too deeply",),
    "far future": ("ahead of the consumer's clock",),
    "far past": ("before 2000-01-01",),
}
FREE_TEXT = ("name", "note", "summary", "description", "title", "text", "reason", "model")
FAR_FUTURE = datetime(2126, 1, 1, tzinfo=UTC)
FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Sent:
    """One record the suite sent: where it landed and how to recognise its effects."""

    topic: str  # context name
    kind: str  # a poison kind, or "good"
    record: KafkaRecord
    event_id: str | None = None  # ce_id, or the inbox key of a raw record
    partition: int = -1
    offset: int = -1
    good_after: Sent | None = None  # the good record sent right after this poison one
    event: DomainEvent | None = None


@dataclass
class Cell:
    dead_lettered: str = "-"
    reason_ok: str = "-"
    moved: str = "-"
    problems: list[str] = field(default_factory=list)


def _fresh(event: DomainEvent, dealer_id: str, now: datetime, **update: Any) -> DomainEvent:
    """``event`` for ``dealer_id`` now, its own ids fresh (a new lead, delivery, ...)."""
    data = event.model_dump(mode="json")
    for name, value in list(data.items()):
        if name.endswith("_id") and isinstance(value, str) and name not in _KEEP_IDS:
            try:
                uuid.UUID(value)
                data[name] = str(uuid.uuid4())
            except ValueError:
                data[name] = f"{value[:20]}-{uuid.uuid4().hex[:8]}"
    if data.get("customer_id") is not None:
        data["customer_id"] = str(uuid.uuid4())
    data.update(dealer_id=dealer_id, occurred_at=now.isoformat(), **update)
    return type(event).model_validate(data)


_KEEP_IDS = frozenset(
    {"dealer_id", "customer_id", "group_id", "consultant_id", "advisor_id", "assignee_id"}
)


def _with_header(headers: Sequence[tuple[str, bytes]], name: str, value: bytes) -> list[Any]:
    return [*[(k, v) for k, v in headers if k != name], (name, value)]


def _nul_in_text(value: bytes) -> bytes | None:
    """The JSON ``value`` with a NUL in its first free-text string, None if it has none."""
    data = json.loads(value)

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in FREE_TEXT and isinstance(item, str) and item:
                    node[key] = item + "\u0000"
                    return True
                if walk(item):
                    return True
        elif isinstance(node, list):
            return any(walk(item) for item in node)
        return False

    return json.dumps(data).encode() if walk(data) else None


class Suite:
    def __init__(self, stack: Any, dealer_id: str, unknown_dealer: str) -> None:
        self.stack = stack
        self.dealer = dealer_id
        self.unknown = unknown_dealer
        self.sent: list[Sent] = []
        self.dealers_version = 0
        self.config_dealer = f"dealer-{uuid.uuid4().hex[:8]}"  # the dealers topic's good ones

    # -- CloudEvents topics --------------------------------------------------------------

    def good(self, context: str, dealer_id: str | None = None) -> tuple[DomainEvent, KafkaRecord]:
        example = example_for(GOOD[context])
        now = self.stack.now()
        if context == "dealers":
            self.dealers_version += 1
            event = _fresh(
                example,
                dealer_id or self.config_dealer,
                now,
                configuration_version=self.dealers_version,
            )
        else:
            event = _fresh(example, dealer_id or self.dealer, now)
        return event, encode_binary(event, source="/e2e-poison", event_id=new_event_id())

    def cloud_topic(self, context: str) -> None:
        first_event, first = self.good(context)
        key = first.key
        first_id = dict(first.headers)["ce_id"].decode()
        self.sent.append(Sent(context, "good", first, first_id, event=first_event))
        for kind in KINDS:
            poison = self.cloud_poison(context, kind, key, first_id)
            if poison is None:
                continue
            event, good = self.good(context)
            good = KafkaRecord(key, good.value, good.headers)
            after = Sent(context, "good", good, dict(good.headers)["ce_id"].decode(), event=event)
            poison.good_after = after
            self.sent.extend([poison, after])

    def cloud_poison(
        self, context: str, kind: str, key: bytes | None, first_id: str
    ) -> Sent | None:
        event, base = self.good(context)
        headers = list(base.headers)
        value = base.value
        if kind == "garbage bytes":
            value = b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 8
        elif kind == "unknown type":
            headers = _with_header(
                headers, "ce_type", f"dealerflow.{context}.CarTeleported.v1".encode()
            )
        elif kind == "invalid payload":
            value = json.dumps({**json.loads(value), "customer_id": "not-a-uuid"}).encode()
        elif kind == "refused":
            if context != "dealers":
                return None  # no business refusal of a schema-valid event on this topic
            data = json.loads(value)
            data["configuration"] = {"policy": {"contact": {"quiet_hours_start": "25:99"}}}
            value = json.dumps(data).encode()
        elif kind == "oversize":
            value = value + b" " * 600_000  # still the valid JSON document
        elif kind == "wrong dealer":
            headers = _with_header(headers, "ce_dealerid", b"dealer-elsewhere")
        elif kind == "dealer unknown":
            if context == "dealers":
                return None  # DealerConfigured is what makes a dealer known
            event, base = self.good(context, dealer_id=self.unknown)
            headers, value = list(base.headers), base.value
        elif kind == "duplicate id":
            headers = _with_header(headers, "ce_id", first_id.encode())
        elif kind == "future specversion":
            headers = _with_header(headers, "ce_specversion", b"2.0")
        elif kind == "NUL":
            changed = _nul_in_text(value)
            if changed is None:
                headers = _with_header(headers, "ce_source", b"/e2e-poison\x00")
            else:
                value = changed
        elif kind == "deep nesting":
            value = b'{"a":' * 30_000 + b"0" + b"}" * 30_000
        elif kind in ("far future", "far past"):
            when = FAR_FUTURE if kind == "far future" else FAR_PAST
            moved = type(event).model_validate(
                {**event.model_dump(mode="json"), "occurred_at": when.isoformat()}
            )
            base = encode_binary(moved, source="/e2e-poison", event_id=new_event_id())
            headers, value = list(base.headers), base.value
        else:  # pragma: no cover - a kind without a recipe
            raise AssertionError(kind)
        event_id = dict(headers).get("ce_id", b"").decode(errors="replace")
        return Sent(context, kind, KafkaRecord(key, value, headers), event_id, event=event)

    # -- inbound.leads (raw JSON / ADF documents) ----------------------------------------

    def submission(self, dealer_id: str | None = None, **extra: Any) -> dict[str, Any]:
        phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
        body: dict[str, Any] = {
            "dealer_id": dealer_id or self.dealer,
            "channel": "online",
            "source": "website",
            "customer": {"name": "毒药测试", "phones": [phone]},
        }
        body.update(extra)
        return body

    def raw(
        self,
        kind: str,
        value: bytes,
        content_type: bytes = b"application/json",
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Sent:
        record = KafkaRecord(b"poison-inbound", value, [("content-type", content_type), *headers])
        probe = SimpleNamespace(headers=record.headers, value=record.value)
        return Sent("inbound.leads", kind, record, inbound_inbox_key(probe))

    def inbound_topic(self) -> None:
        def good() -> Sent:
            return self.raw("good", json.dumps(self.submission()).encode())

        self.sent.append(good())
        deep = b'{"customer":' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # 200 KB
        poisons: dict[str, Callable[[], Sent | None]] = {
            "garbage bytes": lambda: self.raw("garbage bytes", b"\x89PNG\r\n\x1a\n\x00\xff{" * 8),
            "unknown type": lambda: self.raw("unknown type", b"%PDF-1.4 lead", b"application/pdf"),
            "invalid payload": lambda: self.raw(
                "invalid payload", json.dumps({"dealer_id": self.dealer, "customer": 42}).encode()
            ),
            "refused": lambda: self.raw(
                "refused",
                json.dumps({**self.submission(), "customer": {"name": "无联系方式"}}).encode(),
            ),
            "oversize": lambda: self.raw(
                "oversize",
                json.dumps(self.submission(notes="x" * 300_000)).encode(),
            ),
            "wrong dealer": lambda: self.raw(
                "wrong dealer",
                json.dumps(self.submission(dealer_id="dealer-elsewhere")).encode(),
                headers=[("ce_dealerid", self.dealer.encode())],
            ),
            "dealer unknown": lambda: self.raw(
                "dealer unknown", json.dumps(self.submission(dealer_id=self.unknown)).encode()
            ),
            "NUL": lambda: self.raw(
                "NUL",
                json.dumps(
                    {
                        **self.submission(),
                        "customer": {"name": "毒\u0000药", "phones": ["+8613900139000"]},
                    }
                ).encode(),
            ),
            "deep nesting": lambda: self.raw("deep nesting", deep),
            "far future": lambda: self.raw(
                "far future",
                json.dumps(self.submission(requested_at=FAR_FUTURE.isoformat())).encode(),
            ),
            "far past": lambda: self.raw(
                "far past",
                json.dumps(self.submission(requested_at=FAR_PAST.isoformat())).encode(),
            ),
        }
        for kind in KINDS:
            make = poisons.get(kind)
            if make is None:
                continue
            poison = make()
            assert poison is not None
            after = good()
            poison.good_after = after
            self.sent.extend([poison, after])

    # -- sending and observing -----------------------------------------------------------

    async def send(self, client: DealerflowClient) -> None:
        producer = await client.producer()
        for item in self.sent:
            meta = await producer.send_and_wait(
                self.stack.topics.name(item.topic),
                item.record.value,
                key=item.record.key,
                headers=list(item.record.headers),
            )
            item.partition, item.offset = meta.partition, meta.offset

    async def inboxes(self, ids: Sequence[str]) -> dict[str, set[str]]:
        """event id -> the consumers whose inbox holds it (every service's schema)."""
        found: dict[str, set[str]] = {}
        conn = await asyncpg.connect(self.stack.config.pg_dsn)
        try:
            for spec in SERVICES:
                rows = await conn.fetch(
                    f'SELECT consumer, event_id FROM "{self.stack.config.schema(spec)}".inbox '
                    "WHERE event_id = ANY($1::text[])",
                    list(ids),
                )
                for row in rows:
                    found.setdefault(row["event_id"], set()).add(row["consumer"])
        finally:
            await conn.close()
        return found

    async def committed(self) -> dict[tuple[str, str, int], int]:
        """(consumer, context, partition) -> the next offset its group will read (its
        group id is the topic prefix and the consumer's name)."""
        found: dict[tuple[str, str, int], int] = {}
        names = {self.stack.topics.name(c): c for c in CONSUMERS}
        admin = AIOKafkaAdminClient(bootstrap_servers=self.stack.kafka_bootstrap)
        await admin.start()
        try:
            for consumer in set().union(*CONSUMERS.values()):
                group = self.stack.topics.prefix + consumer
                for tp, meta in (await admin.list_consumer_group_offsets(group)).items():
                    if tp.topic in names:
                        found[(consumer, names[tp.topic], tp.partition)] = meta.offset
        finally:
            await admin.close()
        return found

    async def past(self, goods: Sequence[Sent]) -> dict[str, set[str]]:
        """event id -> the consumers of its topic that handled it: its id in the inbox of
        a consumer that reacts to it, the group's committed offset past it for the others."""
        seen = await self.inboxes([g.event_id or "" for g in goods])
        offsets = await self.committed()
        for g in goods:
            for consumer in CONSUMERS[g.topic] - _handlers_of_good(g.topic):
                if offsets.get((consumer, g.topic, g.partition), -1) > g.offset:
                    seen.setdefault(g.event_id or "", set()).add(consumer)
        return seen

    async def dead_letters(self) -> dict[tuple[str, int, int], list[DeadLetter]]:
        """(context, partition, offset) of the original record -> its dead letters."""
        found: dict[tuple[str, int, int], list[DeadLetter]] = {}
        for context in CONSUMERS:
            topic = self.stack.topics.name(context)
            try:
                letters = await read_dead_letters(
                    self.stack.kafka_bootstrap, self.stack.topics.dlq(topic), timeout_s=3
                )
            except LookupError:
                continue
            for letter in letters:
                if letter.original_topic == topic:
                    where = (context, letter.original_partition or 0, letter.original_offset or 0)
                    found.setdefault(where, []).append(letter)
        return found


def _consumers_of(letters: Sequence[DeadLetter]) -> set[str]:
    return {letter.consumer or "?" for letter in letters}


def _reason_ok(kind: str, topic: str, letters: Sequence[DeadLetter]) -> bool:
    wanted = (INBOUND_REASONS if topic == "inbound.leads" else REASONS)[kind]
    return bool(letters) and all(
        any(w in (letter.error or "").lower() for w in wanted) for letter in letters
    )


def _table(cells: dict[tuple[str, str], Cell], topics: Sequence[str]) -> str:
    width = max(len(t) for t in topics) + 2
    head = f"{'kind':<20}" + "".join(f"{t:>{width}}" for t in topics)
    lines = [
        "poison suite: dead-lettered (by/expected consumers) / reason ok / partition moved",
        head,
        "-" * len(head),
    ]
    for kind in KINDS:
        row = f"{kind:<20}"
        for topic in topics:
            cell = cells.get((kind, topic))
            text = "n/a" if cell is None else f"{cell.dead_lettered} {cell.reason_ok} {cell.moved}"
            row += f"{text:>{width}}"
        lines.append(row)
    return "\n".join(lines)


@pytest.fixture(scope="module")
async def refusing_stack(
    kafka_bootstrap: str, pg_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A stack of its own that refuses events of unknown dealers, as production does (the
    suite's shared stack answers them with the defaults, which other tests rely on)."""
    log_dir = tmp_path_factory.mktemp("poison-logs")
    refuse = {"DEALERFLOW_UNKNOWN_DEALERS": "refuse"}
    async with started_stack(kafka_bootstrap, pg_dsn, log_dir, refuse) as started:
        yield started


async def test_every_poison_kind_on_every_consumed_topic_is_dead_lettered_and_replayable(
    refusing_stack: Stack, dealer_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = refusing_stack
    token = ISSUER.token(sub="e2e-poison", roles=["admin"], dealers=["*"])
    async with DealerflowClient(
        stack.urls, kafka_bootstrap=stack.kafka_bootstrap, topics=stack.topics, token=token
    ) as client:
        await _run_suite(stack, client, dealer_id, capsys)


async def _run_suite(
    stack: Stack, client: DealerflowClient, dealer_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = await client.configure_dealer(
        dealer_id, {"policy": {"tiers": {"vip_min_purchases": 1}}}
    )
    await eventually(
        lambda: stack.configuration_seen(dealer_id, changed["configuration_version"]),
        what="the suite's dealer in every service",
    )
    unknown = f"dealer-{uuid.uuid4().hex[:8]}"
    suite = Suite(stack, dealer_id, unknown)
    for context in GOOD:
        suite.cloud_topic(context)
    suite.inbound_topic()
    await suite.send(client)

    # Wait once: every good record handled by every consumer of its topic.
    goods = [s for s in suite.sent if s.kind == "good"]

    async def all_good_handled() -> dict[str, set[str]] | None:
        seen = await suite.past(goods)
        missing = [g for g in goods if not CONSUMERS[g.topic] <= seen.get(g.event_id or "", set())]
        return seen if not missing else None

    try:
        seen = await eventually(
            all_good_handled, timeout_s=180, interval_s=1, what="the good records"
        )
    except AssertionError:
        seen = await suite.past(goods)
    poisons = [s for s in suite.sent if s.kind != "good"]

    def expected(item: Sent) -> set[str]:
        """Who must dead-letter ``item``: every consumer of the topic for a type no one
        knows (and of the raw ``inbound.leads``), the consumers that react to the type
        it names for the rest (they read it; a used id with another body: their inbox
        holds the first event's digest)."""
        if item.kind in READ_BY_ALL or item.topic == "inbound.leads":
            return CONSUMERS[item.topic]
        return reactors(item.topic, GOOD[item.topic])

    async def all_dead_lettered() -> dict[Any, list[DeadLetter]] | None:
        letters = await suite.dead_letters()
        for item in poisons:
            got = letters.get((item.topic, item.partition, item.offset), [])
            if not expected(item) <= _consumers_of(got):
                return None
        return letters

    try:
        letters = await eventually(
            all_dead_lettered, timeout_s=60, interval_s=1, what="dead letters"
        )
    except AssertionError:
        letters = await suite.dead_letters()

    cells: dict[tuple[str, str], Cell] = {}
    for item in poisons:
        cell = cells.setdefault((item.kind, item.topic), Cell())
        got = letters.get((item.topic, item.partition, item.offset), [])
        by = _consumers_of(got)
        want = expected(item)
        cell.dead_lettered = f"{len(by)}/{len(want)}"
        if by != want:
            cell.problems.append(f"dead-lettered by {sorted(by)}, expected {sorted(want)}")
        reason = _reason_ok(item.kind, item.topic, got)
        cell.reason_ok = "ok" if reason else "BAD"
        if not reason:
            cell.problems.append("reasons: " + " | ".join(sorted({g.error or "" for g in got})))
        after = item.good_after
        assert after is not None
        handled = seen.get(after.event_id or "", set())
        moved = CONSUMERS[item.topic] <= handled and not letters.get(
            (after.topic, after.partition, after.offset)
        )
        cell.moved = "moved" if moved else "STUCK"
        if not moved:
            cell.problems.append(f"good record after it handled by {sorted(handled)}")

    topics = list(CONSUMERS)
    with capsys.disabled():  # the figures are the point: shown without -s too
        print("\n" + _table(cells, topics))
    problems = {k: c.problems for k, c in cells.items() if c.problems}
    # The good records reached exactly the consumers the Subscription lists name.
    for g in goods:
        extra = seen.get(g.event_id or "", set()) - CONSUMERS[g.topic]
        assert not extra, f"{g.topic}: unexpected consumers {sorted(extra)}"
    assert not problems, json.dumps(
        {f"{k[0]} @ {k[1]}": v for k, v in problems.items()}, ensure_ascii=False, indent=1
    )

    # -- dlq replay after the fix: the unknown dealer is configured ------------------------
    configured = await client.configure_dealer(
        unknown, {"policy": {"tiers": {"vip_min_purchases": 1}}}
    )
    await eventually(
        lambda: stack.configuration_seen(unknown, configured["configuration_version"]),
        what="the once unknown dealer in every service",
    )
    replayed = [s for s in poisons if s.kind == "dealer unknown"]
    out = io.StringIO()
    for item in replayed:
        for letter in letters[(item.topic, item.partition, item.offset)]:
            code = await dlq_cli.run_async(
                [
                    "--bootstrap",
                    stack.kafka_bootstrap,
                    "replay",
                    stack.topics.dlq(stack.topics.name(item.topic)),
                    "--offset",
                    str(letter.dlq_offset),
                    "--partition",
                    str(letter.dlq_partition),
                ],
                out=out,
                err=out,
            )
            assert code == 0, out.getvalue()

    async def replays_handled() -> bool:
        ids = [s.event_id or "" for s in replayed]
        found = await suite.inboxes(ids)
        return all(
            _handlers_of_good(s.topic) <= found.get(s.event_id or "", set()) for s in replayed
        )

    await eventually(replays_handled, timeout_s=60, what="the replayed records handled")

    # Exactly once, however many copies the replay sent (one per consumer that had
    # dead-lettered it): the notifier's tasks for the replayed lead and delivery are as many
    # as for the first good lead and delivery of the suite's dealer, and the raw
    # submission made one lead.
    def first_good(topic: str) -> Sent:
        return next(s for s in suite.sent if s.topic == topic and s.kind == "good")

    async def tasks_of(dealer: str, item: Sent) -> int:
        assert item.event is not None
        customer = str(item.event.customer_id)
        return sum(1 for t in await client.tasks(dealer) if str(t.get("customer_id")) == customer)

    async def effects() -> dict[str, tuple[int, int]] | None:
        counts: dict[str, tuple[int, int]] = {}
        for topic in ("leads", "sales"):
            replay = next(s for s in replayed if s.topic == topic)
            counts[f"notifier tasks of the {topic} event"] = (
                await tasks_of(unknown, replay),
                await tasks_of(dealer_id, first_good(topic)),
            )
        page = await client.call("leads", "GET", "/v1/leads", params={"dealer_id": unknown})
        counts["leads of the raw submission"] = (len(page["items"]), 1)
        return counts if all(got >= want > 0 for got, want in counts.values()) else None

    counts = await eventually(effects, timeout_s=60, what="the replayed effects")
    await asyncio.sleep(2)  # a second copy would have had its effect by now
    counts = await effects() or counts
    with capsys.disabled():
        print(
            f"dlq replay of {len(replayed)} records ({len(out.getvalue().splitlines())} lines): "
            f"effects (replayed, expected) {counts}"
        )
    assert all(got == want for got, want in counts.values()), counts
