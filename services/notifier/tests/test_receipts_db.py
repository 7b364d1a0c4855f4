"""Delivery receipts on PostgreSQL (use cases, no Kafka): the same failure reported twice
at once (providers retry, a load balancer may deliver both) publishes one
NotificationFailed; a receipt acts on the dealer's row whichever dealer it is."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.enums import MessageChannel
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.domain_receipts import Receipt, ReceiptOutcome
from dealerflow.notifier.records import NotificationRow
from dealerflow.notifier.usecases_receipts import record_receipts
from dealerflow.runtime.db import ALL_DEALERS, transaction

pytestmark = pytest.mark.integration

SENT_AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def _sent(dealer_id: str, provider_id: str) -> NotificationRow:
    return NotificationRow(
        id=uuid.uuid4(),
        dealer_id=dealer_id,
        customer_id=uuid.uuid4(),
        audience="customer",
        recipient="+8613700001111",
        business_key=f"k-{provider_id}",
        reminder_id=None,
        kind="thank_you",
        purpose="service",
        channel="sms",
        locale="en",
        subject="s",
        body="b",
        status="sent",
        policy=None,
        error=None,
        provider_message_id=provider_id,
        attempts=1,
        related_kind=None,
        related_id=None,
        created_at=SENT_AT,
        sent_at=SENT_AT,
    )


async def test_a_failure_reported_twice_at_once_fails_the_message_once(db: Any) -> None:
    rows = [_sent("D001", "biz-1"), _sent("D002", "biz-2")]
    async with transaction(db.pool, dealers=ALL_DEALERS) as conn:
        for row in rows:
            await msgs.insert_notification(conn, row)
    failed = Receipt("aliyun", MessageChannel.SMS, "biz-1", ReceiptOutcome.FAILED, "MK:0001")
    delivered = Receipt("aliyun", MessageChannel.SMS, "biz-2", ReceiptOutcome.DELIVERED)

    async def push() -> Any:
        async with transaction(db.pool, dealers=ALL_DEALERS) as conn:
            recorded = await record_receipts(db.use_case(conn), [failed, delivered])
            await asyncio.sleep(0.2)  # hold the row locks while the other push waits
            return recorded

    first, second = await asyncio.gather(push(), push())
    assert sorted([first.failed, second.failed]) == [0, 1]
    assert sorted([first.delivered, second.delivered]) == [0, 1]
    assert first.unchanged + second.unchanged == 2
    [event] = db.of_type("NotificationFailed")
    assert (event.dealer_id, event.notification_id, event.retryable) == (
        "D001",
        str(rows[0].id),
        False,
    )
    async with transaction(db.pool, dealers=ALL_DEALERS) as conn:
        one = await msgs.get_notification(conn, "D001", rows[0].id)
        two = await msgs.get_notification(conn, "D002", rows[1].id)
    assert one is not None
    assert two is not None
    assert (one.status, one.error) == ("failed", "aliyun receipt: not delivered (MK:0001)")
    assert (two.status, two.delivered_at is not None) == ("sent", True)
