"""A planned customer reminder sent through the real drivers (the smtp driver to a real
aiosmtpd server, the aliyun SMS driver to a local server verifying its signature): the
timer's use case on a real PostgreSQL schema records the notification and publishes
NotificationSent, or NotificationFailed with the provider's reason, final or retried."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.channels import ChannelRegistry
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.records import NotificationRow, ReminderRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_messages import schedule_reminder, send_reminder
from dealerflow.runtime.db import transaction

from .test_channels_sms import ALIYUN_ID, ALIYUN_SECRET, Provider, aliyun_check
from .test_channels_sms import provider as provider  # the local provider fixture
from .test_channels_smtp import Mailbox
from .test_channels_smtp import mailbox as mailbox  # the aiosmtpd fixture

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID("00000000-0000-0000-0000-0000000000c2")


def contact(channel: str) -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": "张伟",
            "phone": "+8613800138000",
            "email": "zhang.wei@example.cn",
            "preferred_channel": channel,
            "consent": {"service": True, "marketing": False, "opted_out_channels": []},
            "locale": "zh-CN",
        }
    )


async def plan(db: Any, channel: str) -> ReminderRow:
    reminder = PlannedReminder(
        key=f"delivery:DLV-{channel}:first-maintenance",
        kind=ReminderKind.MAINTENANCE_DUE,
        dealer_id=DEALER,
        customer_id=CUSTOMER,
        send_at=START,
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.DELIVERY, f"DLV-{channel}"),
        params={"due_date": "2025-09-03", "due_km": "5000"},
    )
    async with transaction(db.pool) as conn:
        row = await schedule_reminder(db.use_case(conn), reminder, contact(channel))
    assert row is not None
    return row


async def fire(db: Any, row: ReminderRow, channels: ChannelRegistry) -> None:
    async with transaction(db.pool) as conn:
        await send_reminder(db.use_case(conn), channels, DEALER, {"reminder_id": str(row.id)})


async def state(db: Any, row: ReminderRow) -> tuple[ReminderRow, list[NotificationRow]]:
    async with db.pool.acquire() as conn:
        current = await msgs.get_reminder(conn, DEALER, row.id)
        notes = await msgs.list_notifications(conn, DEALER, CUSTOMER, after=None, limit=50)
    assert current is not None
    return current, notes


def smtp_registry(box: Mailbox) -> ChannelRegistry:
    return ChannelRegistry.from_settings(
        NotifierSettings(
            channel_drivers={"email": "smtp"},
            smtp_host="127.0.0.1",
            smtp_port=box.port,
            smtp_from="service@pudong-motors.example",
            smtp_tls="none",
        )
    )


async def test_an_email_reminder_arrives_in_the_customers_locale(db: Any, mailbox: Mailbox) -> None:
    row = await plan(db, "email")
    await fire(db, row, smtp_registry(mailbox))
    current, [note] = await state(db, row)
    assert (current.status, note.status, note.channel) == ("sent", "sent", "email")
    [(_, recipients, email)] = mailbox.received
    assert recipients == ["zhang.wei@example.cn"]
    assert email["Subject"] == note.subject
    assert email["Content-Language"] == "zh-CN"
    assert email.get_content().strip() == (note.body or "").strip()
    assert "张伟" in email.get_content()
    [sent] = db.of_type("NotificationSent")
    assert sent.notification_id == str(note.id)
    assert "Q42" in (sent.provider_message_id or "")


async def test_an_unknown_mailbox_fails_the_reminder_for_good(db: Any, mailbox: Mailbox) -> None:
    mailbox.refuse_rcpt = "550 5.1.1 no such mailbox"
    row = await plan(db, "email")
    await fire(db, row, smtp_registry(mailbox))
    current, [note] = await state(db, row)
    assert (current.status, note.status) == ("failed", "failed")
    [failed] = db.of_type("NotificationFailed")
    assert failed.retryable is False
    assert "550" in (note.error or "")


@pytest.mark.parametrize(
    ("answer", "status", "retryable"),
    [
        (None, "sent", None),
        ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "流控"}), "scheduled", True),
        ((200, {"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "余额不足"}), "failed", False),
    ],
)
async def test_an_sms_reminder_through_aliyun(
    db: Any, provider: Provider, answer: Any, status: str, retryable: bool | None
) -> None:
    provider.check = aliyun_check(set())
    provider.answer_next = answer
    channels = ChannelRegistry.from_settings(
        NotifierSettings(
            sms_driver="aliyun",
            sms_endpoint=f"{provider.url}/",
            sms_templates={"maintenance_due": "SMS_154950909"},
            aliyun_access_key_id=ALIYUN_ID,
            aliyun_access_key_secret=ALIYUN_SECRET,
            aliyun_sms_sign_name="浦东汽车",
        )
    )
    row = await plan(db, "sms")
    await fire(db, row, channels)
    current, [note] = await state(db, row)
    assert current.status == status
    assert len(provider.received) == 1
    if retryable is None:
        [sent] = db.of_type("NotificationSent")
        assert sent.provider_message_id == "9006197469364984^0"
        return
    [failed] = db.of_type("NotificationFailed")
    assert failed.retryable is retryable
    assert answer[1]["Code"] in (note.error or "")
