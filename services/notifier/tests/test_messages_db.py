"""Customer reminders and staff alerts: contact policy at send time, channels, retries.
Use cases against a real PostgreSQL schema, with test channels."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import timers as notifier_timers
from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.channels import (
    ChannelRegistry,
    OutboundMessage,
    RecordingChannel,
    SendResult,
)
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.domain_alerts import REMINDER_SEND, StaffAlert
from dealerflow.notifier.records import NotificationRow, ReminderRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_alerts import deliver_staff_alert, queue_staff_alert
from dealerflow.notifier.usecases_messages import schedule_reminder, send_reminder
from dealerflow.runtime.db import transaction
from dealerflow.runtime.service import ServiceContext, timer_handlers_of
from dealerflow.runtime.timers import TimerPoller

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


def contact(**changes: Any) -> ContactSnapshot:
    data: dict[str, Any] = {
        "name": "Zhang Wei",
        "phone": "+8613800138000",
        "preferred_channel": "sms",
        "consent": {"service": True, "marketing": False, "opted_out_channels": []},
        "locale": "en",
    }
    data.update(changes)
    return ContactSnapshot.model_validate(data)


def reminder(
    key: str = "delivery:DLV-1:first-maintenance", send_at: datetime = START
) -> PlannedReminder:
    return PlannedReminder(
        key=key,
        kind=ReminderKind.MAINTENANCE_DUE,
        dealer_id=DEALER,
        customer_id=CUSTOMER,
        send_at=send_at,
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.DELIVERY, "DLV-1"),
        params={"due_date": "2025-09-03", "due_km": "5000"},
    )


class ScriptedChannel:
    """Answers with the scripted results in turn and keeps what it was given."""

    name = "scripted"

    def __init__(self, *results: SendResult | Exception) -> None:
        self.results = list(results)
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def registry(channel: Any) -> ChannelRegistry:
    return ChannelRegistry({"sms": channel, "wechat": channel, "email": channel}, channel)


async def plan(db, snapshot: ContactSnapshot | None = None) -> ReminderRow:
    async with transaction(db.pool) as conn:
        row = await schedule_reminder(db.use_case(conn), reminder(), snapshot or contact())
        again = await schedule_reminder(db.use_case(conn), reminder(), snapshot or contact())
    assert row is not None
    assert again is None  # same business key: planned once
    return row


async def fire(db, row: ReminderRow, channels: ChannelRegistry, **settings: Any) -> None:
    async with transaction(db.pool) as conn:
        await send_reminder(
            db.use_case(conn, **settings), channels, DEALER, {"reminder_id": str(row.id)}
        )


async def state(db, row: ReminderRow) -> tuple[ReminderRow, list[NotificationRow]]:
    async with db.pool.acquire() as conn:
        current = await msgs.get_reminder(conn, DEALER, row.id)
        notes = await msgs.list_notifications(conn, DEALER, CUSTOMER, after=None, limit=50)
    assert current is not None
    return current, notes


async def test_reminder_is_sent_once_in_the_customers_language(db) -> None:
    row = await plan(db)
    [scheduled] = db.of_type("ReminderScheduled")
    assert scheduled.reminder_id == str(row.id)
    assert scheduled.channel.value == "sms"
    channel = RecordingChannel()
    await fire(db, row, registry(channel))
    await fire(db, row, registry(channel))  # fired again (e.g. a retried batch): no-op

    current, [note] = await state(db, row)
    assert current.status == "sent"
    assert note.status == "sent"
    assert note.recipient == "+8613800138000"
    assert note.locale == "en"
    assert note.body is not None
    assert note.body.startswith("Dear Zhang Wei")
    assert "2025-09-03" in note.body
    assert "D001" in note.body  # dealer name defaults to the dealer id
    assert [m.id for m in channel.sent] == [note.id]
    [sent] = db.of_type("NotificationSent")
    assert sent.notification_id == str(note.id)
    assert sent.provider_message_id == f"recorded:{note.id}"


async def test_a_channel_without_a_driver_fails_the_message_for_good(db) -> None:
    row = await plan(db)
    nothing = NotifierSettings(channel_drivers={}, staff_channel_driver=None)
    await fire(db, row, ChannelRegistry.from_settings(nothing))
    current, [note] = await state(db, row)
    assert current.status == "failed"
    assert (note.status, note.error) == ("failed", "no driver configured for channel sms")
    [event] = db.of_type("NotificationFailed")
    assert event.retryable is False


async def test_quiet_hours_defer_to_the_morning(db) -> None:
    row = await plan(db)
    db.clock.set(datetime(2025, 3, 3, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
    channel = ScriptedChannel()
    await fire(db, row, registry(channel))
    current, notes = await state(db, row)
    morning = datetime(2025, 3, 4, 0, 0, tzinfo=UTC)  # 08:00 local
    assert current.status == "scheduled"
    assert current.send_at == morning
    assert notes == []
    assert channel.sent == []
    async with db.pool.acquire() as conn:
        timer = await conn.fetchrow(
            "SELECT kind, due_at FROM timers WHERE key = $1 AND status = 'pending'",
            f"{DEALER}:{row.business_key}",
        )
    assert (timer["kind"], timer["due_at"]) == (REMINDER_SEND, morning)


@pytest.mark.parametrize(
    ("newer_contact", "policy"),
    [
        (
            contact(
                consent={
                    "service": True,
                    "marketing": True,
                    "opted_out_channels": ["sms", "wechat", "email"],
                }
            ),
            "opted_out",
        ),
        (contact(consent={"service": False, "marketing": True}), "no_consent"),
    ],
)
async def test_a_newer_contact_snapshot_suppresses_the_message(db, newer_contact, policy) -> None:
    row = await plan(db)
    async with transaction(db.pool) as conn:
        await repo.upsert_contact(conn, DEALER, CUSTOMER, newer_contact, START + timedelta(days=1))
        # an older snapshot arriving late does not win
        await repo.upsert_contact(conn, DEALER, CUSTOMER, contact(), START)
    channel = ScriptedChannel()
    await fire(db, row, registry(channel))
    current, [note] = await state(db, row)
    assert current.status == "suppressed"
    assert (note.status, note.policy) == ("suppressed", policy)
    assert channel.sent == []
    [suppressed] = db.of_type("NotificationSuppressed")
    assert suppressed.policy.value == policy


async def test_retryable_failure_is_retried_with_a_new_attempt_id(db) -> None:
    row = await plan(db)
    channel = ScriptedChannel(
        SendResult(ok=False, error="gateway 503", retryable=True),
        SendResult(ok=True, provider_message_id="gw-1"),
    )
    await fire(db, row, registry(channel), message_retry_backoff_s=60)
    current, [failed] = await state(db, row)
    assert (current.status, current.attempts) == ("scheduled", 1)
    assert current.send_at == START + timedelta(seconds=60)
    assert (failed.status, failed.error) == ("failed", "gateway 503")
    [event] = db.of_type("NotificationFailed")
    assert (event.retryable, event.attempts) == (True, 1)

    db.clock.advance(timedelta(seconds=60))
    await fire(db, row, registry(channel))
    current, notes = await state(db, row)
    assert current.status == "sent"
    assert [n.status for n in notes] == ["failed", "sent"]
    assert notes[1].provider_message_id == "gw-1"
    assert channel.sent[0].id != channel.sent[1].id  # one id per attempt


@pytest.mark.parametrize(
    ("result", "attempts_allowed", "final_status"),
    [
        (SendResult(ok=False, error="invalid number", retryable=False), 5, "failed"),
        (SendResult(ok=False, error="timeout", retryable=True), 1, "failed"),
        (RuntimeError("driver bug"), 5, "scheduled"),
    ],
)
async def test_failures(db, result, attempts_allowed, final_status) -> None:
    row = await plan(db)
    await fire(db, row, registry(ScriptedChannel(result)), message_max_attempts=attempts_allowed)
    current, [note] = await state(db, row)
    assert current.status == final_status
    assert note.status == "failed"
    [event] = db.of_type("NotificationFailed")
    assert event.retryable is (final_status == "scheduled")


async def test_without_any_contact_the_reminder_is_suppressed(db) -> None:
    async with transaction(db.pool) as conn:
        row = await schedule_reminder(db.use_case(conn), reminder("lead:L-1:thank-you"), None)
    assert row is not None
    await fire(db, row, registry(ScriptedChannel()))
    current, [note] = await state(db, row)
    assert (current.status, note.policy) == ("suppressed", "no_contact_address")


async def test_staff_alert_is_retried_then_given_up(db) -> None:
    channel = ScriptedChannel(
        SendResult(ok=False, error="chat down", retryable=True),
        SendResult(ok=False, error="chat down", retryable=True),
    )
    async with transaction(db.pool) as conn:
        alert_id = await queue_staff_alert(
            db.use_case(conn),
            dealer_id=DEALER,
            customer_id=CUSTOMER,
            recipient="sales-manager:D001",
            business_key="lead:L-1:first-contact:escalate",
            kind="first_contact_escalation",
            alert=StaffAlert("Overdue", "First contact is overdue."),
            related=RecordRef(RecordKind.LEAD, "L-1"),
        )
    for _ in range(2):
        async with transaction(db.pool) as conn:
            await deliver_staff_alert(
                db.use_case(conn, message_max_attempts=2),
                registry(channel),
                DEALER,
                {"notification_id": str(alert_id)},
            )
    async with db.pool.acquire() as conn:
        note = await msgs.get_notification(conn, DEALER, alert_id)
    assert note is not None
    assert (note.status, note.attempts, note.audience) == ("failed", 2, "staff")
    assert [m.recipient for m in channel.sent] == ["sales-manager:D001"] * 2


async def test_timer_poller_sends_nothing_early_and_publishes_through_the_outbox(db) -> None:
    ctx = ServiceContext(
        settings=db.settings,
        clock=db.clock,
        topics=TopicRegistry("t."),
        source="/t",
        dealers=DEFINITION.dealer_configuration(db.settings),
        pool=db.pool,
    )
    async with transaction(db.pool) as conn:
        later = reminder(send_at=START + timedelta(hours=1))
        row = await schedule_reminder(db.use_case(conn), later, contact())
    assert row is not None
    channel = RecordingChannel()
    handlers = timer_handlers_of(ctx, notifier_timers.handlers(ctx, registry(channel)))
    poller = TimerPoller(db.pool, handlers, clock=db.clock)

    db.clock.advance(timedelta(minutes=59))
    assert await poller.fire_due() == 0
    assert channel.sent == []

    db.clock.advance(timedelta(minutes=1))
    assert await poller.fire_due() == 1
    assert len(channel.sent) == 1
    async with db.pool.acquire() as conn:
        outbox = await conn.fetch("SELECT topic, headers::text AS headers FROM outbox")
    assert [r["topic"] for r in outbox] == ["t.notifier"]
    assert "NotificationSent" in outbox[0]["headers"]
    current, _ = await state(db, row)
    assert current.status == "sent"


# -- the dealer's configuration: name, channels, wording ------------------------------------


async def test_the_dealer_name_in_a_message_comes_from_its_profile(db) -> None:
    db.configure(DEALER, {"profile": {"name": "Acme Pudong"}})
    row = await plan(db)
    await fire(db, row, registry(RecordingChannel()))
    _, [note] = await state(db, row)
    assert note.body is not None
    assert "Book it with Acme Pudong." in note.body


async def test_a_channel_the_dealer_does_not_use_falls_back_to_its_first(db) -> None:
    db.configure(DEALER, {"policy": {"contact": {"channels": ["email", "sms"]}}})
    customer = contact(preferred_channel="wechat", wechat_openid="o-1", email="zw@example.cn")
    row = await plan(db, customer)
    [scheduled] = db.of_type("ReminderScheduled")
    assert scheduled.channel.value == "email"
    await fire(db, row, registry(RecordingChannel()))
    _, [note] = await state(db, row)
    assert (note.channel, note.recipient) == ("email", "zw@example.cn")


async def test_the_dealer_s_wording_is_sent_and_a_broken_one_falls_back(db, caplog) -> None:
    wording = "{customer_name}, {dealer_name} expects your car by {due_date}."
    db.configure(
        DEALER,
        {"policy": {"contact": {"templates": {"maintenance_due": {"en": wording}}}}},
    )
    row = await plan(db)
    await fire(db, row, registry(RecordingChannel()))
    _, [note] = await state(db, row)
    assert note.body == "Zhang Wei, D001 expects your car by 2025-09-03."

    broken = "{customer_name}, your {car_model} is due."
    db.configure(
        DEALER, {"policy": {"contact": {"templates": {"maintenance_due": {"en": broken}}}}}
    )
    async with transaction(db.pool) as conn:
        other = await schedule_reminder(db.use_case(conn), reminder("other-key"), contact())
    assert other is not None
    await fire(db, other, registry(RecordingChannel()))
    async with db.pool.acquire() as conn:
        notes = await msgs.list_notifications(conn, DEALER, CUSTOMER, after=None, limit=50)
    sent = next(n for n in notes if n.reminder_id == other.id)
    assert sent.status == "sent"
    assert sent.body is not None
    assert sent.body.startswith("Dear Zhang Wei")  # the built-in template
    assert "template maintenance_due/en not used (unknown field {car_model})" in caplog.text
