"""Guarantee: a crash between the database commit and Kafka's acknowledgement loses
nothing, and a consumer applies each event exactly once although the topic then holds
duplicates.

outbox (business rows + events in one transaction) -> relay that dies after Kafka acked a
batch but before deleting its rows -> restarted relay publishes everything again -> the
reacting service's EventConsumer (on a FastStream broker) has one effect per event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

import pytest
from prometheus_client import REGISTRY

from dealerflow.devinfra.client import eventually
from dealerflow.runtime.outbox import decode_headers
from tests.integration.guarantee_service import EffectRecorder, Infra, ids_of

pytestmark = pytest.mark.integration

EVENTS = 90  # on 9 customers (keys), so every partition gets some
BATCH = 30  # relay batch size: the crash leaves at least one acknowledged batch behind


async def relay_dies_after_ack(infra: Infra) -> list[int]:
    """A relay process that dies once Kafka acknowledged its first batch, before the
    DELETE of those rows; its database session ends with it. Returns the acked row ids."""
    acked: list[int] = []
    reached = asyncio.Event()

    async def hang(ids: Sequence[int]) -> None:
        acked.extend(ids)
        reached.set()
        await asyncio.Event().wait()  # the process is about to die here

    pool = await infra.other_pool()
    relay = infra.relay(pool, batch_size=BATCH, after_send=hang)
    task = asyncio.create_task(relay.run())
    await asyncio.wait_for(reached.wait(), 15)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    pool.terminate()  # connections gone: PostgreSQL releases its relay leadership
    return acked


async def relay_loop_fails_after_ack(infra: Infra) -> list[int]:
    """A relay whose publishing loop raises after Kafka acknowledged the first batch,
    before the DELETE; the relay itself recovers and carries on. Returns the acked ids."""
    acked: list[int] = []
    reached = asyncio.Event()

    async def fail_once(ids: Sequence[int]) -> None:
        if not reached.is_set():
            acked.extend(ids)
            reached.set()
            raise RuntimeError("relay crashed between Kafka's ack and the delete")

    await infra.start_relay(infra.relay(batch_size=BATCH, after_send=fail_once))
    await asyncio.wait_for(reached.wait(), 15)
    return acked


async def event_ids_by_row(infra: Infra) -> dict[int, str]:
    """Outbox row id -> the ce_id of the event it holds."""
    rows = await infra.pool.fetch("SELECT id, headers::text AS headers FROM outbox")
    return {r["id"]: dict(decode_headers(r["headers"]))["ce_id"].decode() for r in rows}


def duplicates_seen(consumer: str) -> float:
    labels = {"consumer": consumer, "outcome": "duplicate"}
    return REGISTRY.get_sample_value("dealerflow_consumer_events_total", labels) or 0.0


@pytest.mark.parametrize("crash", ["relay process dies", "relay loop fails"])
async def test_crash_between_commit_and_ack_loses_nothing_and_effects_happen_once(
    infra: Infra, crash: str
) -> None:
    reactor = EffectRecorder()
    group = infra.group("notifier.leads")
    await infra.start_consumer(infra.consumer("notifier.leads", reactor.router), group)
    duplicates_before = duplicates_seen("notifier.leads")

    event_ids = [await infra.grade_lead(f"lead-{i}", customer_no=i % 9) for i in range(EVENTS)]
    assert await infra.count("SELECT count(*) FROM lead_grades") == EVENTS
    rows = await event_ids_by_row(infra)
    assert sorted(rows.values()) == sorted(event_ids)

    if crash == "relay process dies":
        acked = await relay_dies_after_ack(infra)
        # Kafka has the acknowledged batch, the outbox still has every row
        assert await infra.count("SELECT count(*) FROM outbox") == EVENTS
        assert len(ids_of(await infra.on_topic())) >= BATCH
        await infra.start_relay(infra.relay(await infra.other_pool(), batch_size=BATCH))
    else:
        acked = await relay_loop_fails_after_ack(infra)
    assert len(acked) == BATCH

    async def outbox_empty() -> bool:
        return await infra.count("SELECT count(*) FROM outbox") == 0

    await eventually(outbox_empty, timeout_s=15, what="the restarted relay to publish all")
    published = Counter(ids_of(await infra.on_topic()))
    assert set(published) == set(event_ids), "every committed event reached Kafka"
    duplicated = [event_id for event_id, n in published.items() if n > 1]
    assert {rows[row_id] for row_id in acked} <= set(duplicated), "acked rows sent again"

    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="consumer caught up")
    effects = await infra.pool.fetch("SELECT event_id, subject FROM effects")
    assert len(effects) == EVENTS
    assert sorted(r["event_id"] for r in effects) == sorted(event_ids)
    # the consumer received every copy; the inbox dropped the second ones before any
    # handler ran
    assert duplicates_seen("notifier.leads") - duplicates_before >= len(duplicated)
    assert reactor.calls == {f"lead-{i}": 1 for i in range(EVENTS)}
    assert await infra.count("SELECT count(*) FROM inbox") == EVENTS
