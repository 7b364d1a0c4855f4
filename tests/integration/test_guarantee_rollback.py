"""Guarantee: no dual writes. What a transaction wrote besides its state change (outbox
records, timers) exists only if it committed; a rolled-back one reaches nobody.

Once in a use case (its transaction rolls back) and once in an event handler (its attempt
fails, its savepoint rolls back, the retry succeeds).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dealerflow.contracts.envelope import Envelope, encode_binary
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.devinfra.client import eventually
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from dealerflow.runtime.publisher import event_source, publish_event
from dealerflow.runtime.timers import schedule
from tests.integration.guarantee_service import DEALER, NOW, Infra, assigned, graded, ids_of

pytestmark = pytest.mark.integration


class UseCaseFailed(RuntimeError):
    pass


async def grade_lead_with_callback(infra: Infra, lead: str, *, fail: bool) -> str:
    """Grade a lead, announce it and schedule the consultant's callback; in one
    transaction that fails at the very end when ``fail``."""
    async with infra.pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO lead_grades VALUES ($1, 'H')", lead)
        event_id = await publish_event(
            conn, graded(lead), source=event_source("leads"), topics=infra.topics
        )
        await schedule(
            conn,
            key=f"lead:{lead}:callback",
            kind="callback",
            dealer_id=DEALER,
            due_at=NOW + timedelta(hours=1),
        )
        if fail:
            raise UseCaseFailed(lead)
    return event_id


async def test_a_rolled_back_use_case_leaves_no_outbox_row_no_timer_and_nothing_on_kafka(
    infra: Infra,
) -> None:
    await infra.start_relay(infra.relay())
    with pytest.raises(UseCaseFailed):
        await grade_lead_with_callback(infra, "rolled-back", fail=True)
    committed = await grade_lead_with_callback(infra, "committed", fail=False)

    async def relay_done() -> bool:
        return await infra.count("SELECT count(*) FROM outbox") == 0

    await eventually(relay_done, timeout_s=15, what="the relay to publish what committed")
    # the relay publishes in id order and has passed the rolled-back transaction's place:
    # a row left by it would still be in the outbox, or on Kafka
    assert ids_of(await infra.on_topic()) == [committed]
    timers = await infra.pool.fetch("SELECT key FROM timers")
    assert [r["key"] for r in timers] == ["lead:committed:callback"]
    grades = await infra.pool.fetch("SELECT lead_id FROM lead_grades")
    assert [r["lead_id"] for r in grades] == ["committed"]


async def test_a_failed_handler_attempt_leaves_nothing_and_its_retry_counts_once(
    infra: Infra,
) -> None:
    attempts: list[str] = []
    router = EventRouter()

    @router.on(LeadGraded)
    async def assign(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        lead = env.event.lead_id
        attempts.append(lead)
        await ctx.conn.execute(
            "INSERT INTO effects (event_id, subject) VALUES ($1, $2)", env.meta.id, lead
        )
        await ctx.publish(assigned(lead))
        await ctx.schedule_timer(key=f"lead:{lead}:attempt-{len(attempts)}", kind="sla", due_at=NOW)
        if len(attempts) == 1:
            raise LookupError("consultant roster not loaded yet")  # transient: retried

    group = infra.group("sales.leads")
    await infra.start_relay(infra.relay())
    await infra.start_consumer(infra.consumer("sales.leads", router), group)
    await infra.send(encode_binary(graded("L1"), source="/dealerflow/leads", event_id="evt-L1"))

    async def follow_up_on_kafka() -> list[str]:
        records = await infra.on_topic()
        return [
            r.header("ce_id") or ""
            for r in records
            if r.header("ce_type") == LeadAssigned.event_type
        ]

    (follow_up,) = await eventually(follow_up_on_kafka, timeout_s=15, what="the follow-up")
    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="all consumed")
    assert attempts == ["L1", "L1"]
    effects = await infra.pool.fetch("SELECT event_id FROM effects")
    assert [r["event_id"] for r in effects] == ["evt-L1"]
    timers = await infra.pool.fetch("SELECT key FROM timers")
    assert [r["key"] for r in timers] == ["lead:L1:attempt-2"]  # the first attempt's is gone
    published = [r for r in await infra.on_topic() if r.header("ce_id") == follow_up]
    assert len(published) == 1
    assert published[0].header("ce_causationid") == "evt-L1"
    assert await infra.count("SELECT count(*) FROM outbox") == 0
    assert await infra.on_topic(infra.dlq) == []
