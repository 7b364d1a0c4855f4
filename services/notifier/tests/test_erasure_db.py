"""The erasure use case against a real PostgreSQL schema: what is cancelled, what is
anonymised, what stays, and that a second run changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.contact import ContactSnapshot, erased_contact
from dealerflow.contracts.enums import ConsentPurpose, Locale
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_surveys as surveys
from dealerflow.notifier.channels import ChannelRegistry, RecordingChannel
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.domain_alerts import StaffAlert
from dealerflow.notifier.domain_erasure import ERASED_TEXT, ERASURE_POLICY, NOT_SENT
from dealerflow.notifier.records import NewTask
from dealerflow.notifier.repository_surveys import SurveyRow
from dealerflow.notifier.usecases_alerts import queue_staff_alert
from dealerflow.notifier.usecases_consent import ReceiveSms, receive_sms
from dealerflow.notifier.usecases_erasure import erase_customer
from dealerflow.notifier.usecases_messages import schedule_reminder, send_reminder
from dealerflow.runtime.db import transaction
from dealerflow.runtime.erasure import Erasure

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
X = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
Y = uuid.UUID("00000000-0000-0000-0000-0000000000e2")
NAME, PHONE, EMAIL = "王小明", "+8613912345678", "wang.xiaoming@example.com"
TRACES = (NAME, PHONE, PHONE.removeprefix("+86"), EMAIL)


def contact_of(name: str, phone: str, email: str) -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": name,
            "phone": phone,
            "email": email,
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": False, "opted_out_channels": []},
            "locale": "en",
        }
    )


def reminder(customer: uuid.UUID, key: str, send_at: datetime) -> PlannedReminder:
    return PlannedReminder(
        key=key,
        kind=ReminderKind.APPOINTMENT,
        dealer_id=DEALER,
        customer_id=customer,
        send_at=send_at,
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.LEAD, f"L-{key}"),
        params={"appointment_time": "2025-03-04 10:00", "location": f"{NAME}'s home"},
    )


def task(customer: uuid.UUID, key: str, title: str, script: str) -> NewTask:
    return NewTask(
        id=uuid.uuid4(),
        dealer_id=DEALER,
        customer_id=customer,
        business_key=key,
        kind=TaskKind.DELIVERY_CALLBACK.value,
        title=title,
        assignee="c-li-na",
        assignee_role="consultant",
        due_at=START + timedelta(days=1),
        script=script,
        related_kind="delivery",
        related_id=f"DLV-{key}",
        source_event_id=None,
        created_at=START,
    )


async def customer_with_everything(db: Any, customer: uuid.UUID, person: ContactSnapshot) -> None:
    """A contact snapshot, a sent and a planned reminder, a queued staff alert, a done task
    with a note and an open one whose title and script name the person, and an SMS
    reply from their phone."""
    """A contact snapshot, a sent and a planned reminder, a queued staff alert, an answered
    survey with a comment, a done task with a note and an open one whose title and script
    name the person."""
    tag = str(customer)[-2:]
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        await repo.upsert_contact(conn, DEALER, customer, person, START)
        sent = await schedule_reminder(uc, reminder(customer, f"sent-{tag}", START), person)
        await schedule_reminder(
            uc, reminder(customer, f"later-{tag}", START + timedelta(days=1)), person
        )
        assert sent is not None
        channels = ChannelRegistry({"sms": RecordingChannel()}, RecordingChannel())
        await send_reminder(uc, channels, DEALER, {"reminder_id": str(sent.id)})
        await queue_staff_alert(
            uc,
            dealer_id=DEALER,
            customer_id=customer,
            recipient="sales-manager:D001",
            business_key=f"alert-{tag}",
            kind="complaint_escalation",
            alert=StaffAlert(subject=f"Call {person.name}", body=f"on {person.phone}"),
            related=None,
        )
        survey = SurveyRow(
            id=uuid.uuid4(),
            dealer_id=DEALER,
            customer_id=customer,
            kind="delivery_satisfaction",
            related_kind="delivery",
            related_id=f"DL-{tag}",
            locale="en",
            sent_at=START,
            expires_at=START + timedelta(days=14),
            answered_at=None,
            score=None,
            comment=None,
            created_at=START,
        )
        assert await surveys.insert_survey(conn, survey) is not None
        await surveys.record_answer(
            conn, DEALER, survey.id, score=3, comment=f"{person.name}: late", answered_at=START
        )
        (done,) = await repo.insert_tasks(conn, [task(customer, f"done-{tag}", "Callback", "Ask")])
        await repo.complete_task(
            conn,
            DEALER,
            done.id,
            outcome="dissatisfied",
            note=f"{person.name} wants a call on {person.email}",
            completed_by="c-li-na",
            completed_at=START,
        )
        await repo.insert_tasks(
            conn,
            [
                task(
                    customer,
                    f"open-{tag}",
                    f"Delivery callback: {person.name}",
                    f"Call {person.name} on {person.phone}",
                )
            ],
        )
        assert person.phone is not None
        await receive_sms(uc, ReceiveSms(DEALER, person.phone, f"TD {person.name}", START))


async def rows_of(db: Any, customer: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    found = {}
    async with db.pool.acquire() as conn:
        for table in ("tasks", "reminders", "notifications", "customer_contacts", "surveys"):
            rows = await conn.fetch(
                f"SELECT row_to_json(t)::text AS r FROM {table} t "
                "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY 1",
                DEALER,
                customer,
            )
            found[table] = [json.loads(r["r"]) for r in rows]
        rows = await conn.fetch(
            "SELECT row_to_json(t)::text AS r FROM inbound_sms t "
            "WHERE dealer_id = $1 AND $2 = ANY(customer_ids) ORDER BY 1",
            DEALER,
            customer,
        )
        found["inbound_sms"] = [json.loads(r["r"]) for r in rows]
    return found


async def pending_timers(db: Any) -> set[str]:
    async with db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT key FROM timers WHERE status = 'pending'")
    return {r["key"] for r in rows}


async def erase(db: Any, customer: uuid.UUID) -> dict[str, int]:
    async with transaction(db.pool) as conn:
        return await erase_customer(db.use_case(conn), Erasure("er-1", DEALER, customer, START))


async def test_erasure_cancels_what_is_not_sent_and_anonymises_the_rest(db: Any) -> None:
    await customer_with_everything(db, X, contact_of(NAME, PHONE, EMAIL))
    await customer_with_everything(db, Y, contact_of("李四", "+8613800000001", "li@example.com"))
    before, y_before = await rows_of(db, X), await rows_of(db, Y)
    assert all(trace in json.dumps(before, ensure_ascii=False) for trace in TRACES)
    timers_before = await pending_timers(db)

    counts = await erase(db, X)

    assert counts == {
        "reminders": 2,
        "notifications": 2,
        "tasks": 2,
        "customer_contacts": 1,
        "timers": 2,
        "inbound_sms": 1,
        "surveys": 1,
    }
    after = await rows_of(db, X)
    assert all(trace not in json.dumps(after, ensure_ascii=False) for trace in TRACES)
    erased = erased_contact(Locale.EN).model_dump(mode="json")
    # reminders: the one not sent is cancelled with its timer; both keep dates and kind
    reminders = {r["business_key"]: r for r in after["reminders"]}
    assert reminders["sent-e1"]["status"] == "sent"
    assert reminders["later-e1"]["status"] == "cancelled"
    for row in reminders.values():
        assert row["contact"] == erased
        assert row["params"] == {"appointment_time": "2025-03-04 10:00", "location": ERASED_TEXT}
    assert f"{DEALER}:later-e1" in timers_before
    assert f"{DEALER}:later-e1" not in await pending_timers(db)
    # notifications: the sent message keeps status, ids and dates, loses address and text;
    # the queued staff alert is not sent any more (its timer cancelled)
    messages = {n["audience"]: n for n in after["notifications"]}
    sent_before = next(n for n in before["notifications"] if n["audience"] == "customer")
    customer_message = messages["customer"]
    assert customer_message["status"] == "sent"
    assert (customer_message["recipient"], customer_message["body"]) == (None, ERASED_TEXT)
    assert customer_message["subject"] == ERASED_TEXT
    for column in ("id", "reminder_id", "kind", "channel", "locale", "created_at", "sent_at"):
        assert customer_message[column] == sent_before[column]
    alert = messages["staff"]
    assert (alert["status"], alert["policy"], alert["error"]) == (
        "suppressed",
        ERASURE_POLICY,
        NOT_SENT,
    )
    assert alert["recipient"] == "sales-manager:D001"  # the staff member
    assert (alert["subject"], alert["body"]) == (ERASED_TEXT, ERASED_TEXT)
    assert f"alert:{alert['id']}" not in await pending_timers(db)
    # tasks: status, outcome and dates kept; the note and the name in title/script gone
    tasks = {t["business_key"]: t for t in after["tasks"]}
    assert (tasks["done-e1"]["status"], tasks["done-e1"]["outcome"]) == ("done", "dissatisfied")
    assert tasks["done-e1"]["note"] == ERASED_TEXT
    assert tasks["open-e1"]["status"] == "scheduled"
    assert tasks["open-e1"]["title"] == f"Delivery callback: {ERASED_TEXT}"
    assert tasks["open-e1"]["script"] == f"Call {ERASED_TEXT} on {ERASED_TEXT}"
    assert after["customer_contacts"][0]["contact"] == erased
    # the SMS reply (not a keyword: only recorded): number and text gone, its dates kept
    [sms] = after["inbound_sms"]
    assert (sms["phone"], sms["text"], sms["opt_out"]) == (None, ERASED_TEXT, False)
    # surveys: the comment gone, the score kept
    [survey] = after["surveys"]
    assert (survey["score"], survey["comment"]) == (3, ERASED_TEXT)

    # Y untouched, timers of Y still pending
    assert await rows_of(db, Y) == y_before
    assert f"{DEALER}:later-e2" in await pending_timers(db)

    # a second run changes nothing
    assert set((await erase(db, X)).values()) == {0}
    assert await rows_of(db, X) == after


async def test_erasure_of_an_unknown_customer_leaves_an_erased_snapshot_only(db: Any) -> None:
    assert await erase(db, X) == {
        "reminders": 0,
        "notifications": 0,
        "tasks": 0,
        "customer_contacts": 1,
        "timers": 0,
        "inbound_sms": 0,
        "surveys": 0,
    }
    # an older event's snapshot consumed late does not bring the person back
    async with transaction(db.pool) as conn:
        await repo.upsert_contact(
            conn, DEALER, X, contact_of(NAME, PHONE, EMAIL), START - timedelta(days=1)
        )
        stored = await repo.get_contact(conn, DEALER, X)
    assert stored == erased_contact()
