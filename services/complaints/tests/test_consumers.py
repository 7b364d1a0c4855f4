"""Complaints opened (and reopened) by events on the notifier and service topics, the
contact directory, and dead letters - real Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.complaints import (
    ComplaintClosed,
    ComplaintOpened,
    ComplaintReopened,
)
from dealerflow.contracts.events.notifier import ConsentChanged, SurveyResponded, TaskCompleted
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import (
    QualityCheckFailed,
    RepairOrderOpened,
    VehicleHandedOver,
)
from dealerflow.contracts.examples import example_for
from dealerflow.runtime.dlq import read_dead_letters, replay_dead_letters

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"


def delivered(customer: uuid.UUID) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={"dealer_id": DEALER, "customer_id": customer}
    )


def dissatisfied(customer: uuid.UUID, task_id: str, **update: Any) -> TaskCompleted:
    return example_for(TaskCompleted).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "task_id": task_id,
            "outcome": TaskOutcome.DISSATISFIED,
            "note": "Car was delivered dirty",
            **update,
        }
    )


async def _complaints_of(harness: Any, customer: uuid.UUID) -> list[Any]:
    return await harness.db(
        "SELECT id, origin_ref, origin::text AS origin, channel, category, status "
        "FROM complaints WHERE dealer_id = $1 AND customer_id = $2 ORDER BY opened_at",
        DEALER,
        customer,
    )


async def _contact_known(harness: Any, customer: uuid.UUID) -> None:
    await harness.contact_known(DEALER, customer)


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_dissatisfied_callback_opens_exactly_one_complaint(harness: Any, mode: str) -> None:
    customer = uuid.uuid4()
    await harness.produce(delivered(customer), mode=mode)
    await _contact_known(harness, customer)

    task = dissatisfied(customer, f"task-{uuid.uuid4().hex[:8]}")
    await harness.produce(task, mode=mode)
    rows = await harness.eventually(
        lambda: _complaints_of(harness, customer), what="the automatic complaint"
    )
    assert len(rows) == 1
    complaint = rows[0]
    assert complaint["origin_ref"] == f"task:{task.task_id}"
    assert json.loads(complaint["origin"]) == {
        "kind": "dissatisfied_callback",
        "task_id": task.task_id,
    }
    assert complaint["channel"] == "callback_survey"
    assert complaint["category"] == "sales_service"  # a delivery callback

    # the same event again, and the same task published again under a new event id
    await harness.produce(task, mode=mode)
    republished = str(uuid.uuid4())
    await harness.produce(task, mode=mode, event_id=republished)
    await harness.handled(republished)  # same key: the redelivered copy came before it
    assert len(await _complaints_of(harness, customer)) == 1

    cid = complaint["id"]
    events = await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintOpened, cid), what="ComplaintOpened"
    )
    opened = [e for e in events if isinstance(e.event, ComplaintOpened)]
    assert len(opened) == 1
    assert opened[0].event.contact.phone == delivered(customer).contact.phone
    assert opened[0].event.origin.task_id == task.task_id
    assert opened[0].meta.causation_id is not None  # the TaskCompleted's id
    detail = await harness.client.get(f"/v1/complaints/{cid}", params={"dealer_id": DEALER})
    assert len(detail.json()["clocks"]) == 4


async def test_satisfied_callback_opens_nothing_and_low_survey_score_opens_one(
    harness: Any,
) -> None:
    customer = uuid.uuid4()
    await harness.produce(delivered(customer))
    await _contact_known(harness, customer)
    await harness.produce(dissatisfied(customer, "task-ok", outcome=TaskOutcome.SATISFIED))
    good = example_for(SurveyResponded).model_copy(
        update={"dealer_id": DEALER, "customer_id": customer, "survey_id": "s-good", "score": 7}
    )
    bad = good.model_copy(update={"survey_id": "s-bad", "score": 6, "comment": "Too slow"})
    await harness.produce(good)
    await harness.produce(bad)
    rows = await harness.eventually(
        lambda: _complaints_of(harness, customer), what="the survey complaint"
    )
    assert [r["origin_ref"] for r in rows] == ["survey:s-bad"]
    origin = json.loads(rows[0]["origin"])
    assert origin == {"kind": "low_survey_score", "survey_id": "s-bad", "survey_score": 6}


async def _resolved_complaint(harness: Any) -> tuple[str, uuid.UUID]:
    """A complaint opened, acknowledged and resolved through the API: (id, customer)."""
    created = await harness.open_complaint()
    cid, customer = created["id"], uuid.UUID(created["customer_id"])
    for action, body in (
        ("acknowledge", {"channel": "phone"}),
        ("resolve", {"responsibility": "dealer", "measures": ["Fixed"], "resolution": "ok"}),
    ):
        response = await harness.client.post(
            f"/v1/complaints/{cid}/{action}", json={"dealer_id": DEALER, **body}
        )
        assert response.status_code == 200, response.text
    return cid, customer


async def test_dissatisfied_verification_reopens_the_resolved_complaint_once(
    harness: Any,
) -> None:
    cid, customer = await _resolved_complaint(harness)
    verification = dissatisfied(
        customer,
        "task-verify",
        kind=TaskKind.COMPLAINT_VERIFICATION,
        related=RelatedRecord(kind=RecordKind.COMPLAINT, id=cid),
        note="Still squeals",
    )
    await harness.produce(verification)
    republished = str(uuid.uuid4())
    await harness.produce(verification, event_id=republished)

    async def reopened() -> bool:
        rows = await harness.db(
            "SELECT status, reopen_count FROM complaints WHERE id = $1", uuid.UUID(cid)
        )
        return rows[0]["status"] == "reopened"

    await harness.eventually(reopened, what="the complaint reopened")
    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintReopened, cid), what="ComplaintReopened"
    )
    # the copy under a new event id: the trigger ref keeps it at one reopening and it
    # opens no new complaint either
    await harness.handled(republished)
    rows = await harness.db("SELECT reopen_count FROM complaints WHERE customer_id = $1", customer)
    assert [r["reopen_count"] for r in rows] == [1]
    assert harness.seen_of(ComplaintReopened, cid)[0].reason == "Still squeals"


async def test_satisfied_verification_closes_the_resolved_complaint_once(harness: Any) -> None:
    cid, customer = await _resolved_complaint(harness)
    verification = dissatisfied(
        customer,
        "task-verified-ok",
        kind=TaskKind.COMPLAINT_VERIFICATION,
        outcome=TaskOutcome.SATISFIED,
        assignee_id="cr-liu",
        related=RelatedRecord(kind=RecordKind.COMPLAINT, id=cid),
        note=None,
    )
    await harness.produce(verification)
    republished = str(uuid.uuid4())
    await harness.produce(verification, event_id=republished)

    async def closed() -> bool:
        rows = await harness.db("SELECT status FROM complaints WHERE id = $1", uuid.UUID(cid))
        return rows[0]["status"] == "closed"

    await harness.eventually(closed, what="the complaint closed")
    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintClosed, cid), what="ComplaintClosed"
    )
    await harness.handled(republished)
    [event] = harness.seen_of(ComplaintClosed, cid)
    assert (event.customer_confirmed, event.closed_by) == (True, "cr-liu")
    history = await harness.db(
        "SELECT action, trigger_ref FROM complaint_history WHERE complaint_id = $1 "
        "AND action = 'closed'",
        uuid.UUID(cid),
    )
    assert [(r["action"], r["trigger_ref"]) for r in history] == [
        ("closed", "task:task-verified-ok")
    ]
    # no new complaint from a satisfied callback
    assert len(await _complaints_of(harness, customer)) == 1


async def test_a_satisfied_callback_leaves_an_open_complaint_as_it_is(harness: Any) -> None:
    created = await harness.open_complaint()
    cid, customer = created["id"], uuid.UUID(created["customer_id"])
    verification = dissatisfied(
        customer,
        "task-verified-early",
        kind=TaskKind.COMPLAINT_VERIFICATION,
        outcome=TaskOutcome.SATISFIED,
        related=RelatedRecord(kind=RecordKind.COMPLAINT, id=cid),
    )
    event_id = str(uuid.uuid4())
    await harness.produce(verification, event_id=event_id)
    await harness.handled(event_id)
    rows = await harness.db("SELECT status FROM complaints WHERE id = $1", uuid.UUID(cid))
    assert rows[0]["status"] == "opened"


async def test_quality_check_failure_reaching_the_customer_opens_a_high_complaint(
    harness: Any,
) -> None:
    customer = uuid.uuid4()
    await harness.produce(delivered(customer))
    await _contact_known(harness, customer)
    check = example_for(QualityCheckFailed).model_copy(
        update={"dealer_id": DEALER, "customer_id": customer}
    )
    await harness.produce(check)  # caught in the workshop: rework, not a complaint
    await harness.produce(check.model_copy(update={"attempt": 2, "reached_customer": True}))
    rows = await harness.eventually(
        lambda: harness.db(
            "SELECT severity, origin_ref FROM complaints WHERE customer_id = $1", customer
        ),
        what="the quality-check complaint",
    )
    assert [(r["severity"], r["origin_ref"]) for r in rows] == [
        ("high", f"quality_check:{check.repair_order_id}:2")
    ]


async def test_consent_change_refreshes_the_stored_contact(harness: Any) -> None:
    customer = uuid.uuid4()
    await harness.produce(delivered(customer))
    await _contact_known(harness, customer)
    change = example_for(ConsentChanged).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "purpose": ConsentPurpose.MARKETING,
            "channel": None,
            "granted": False,
        }
    )
    await harness.produce(change)

    async def withdrawn() -> bool:
        rows = await harness.db(
            "SELECT contact->'consent'->>'marketing' AS m FROM customer_contacts "
            "WHERE customer_id = $1",
            customer,
        )
        return rows[0]["m"] == "false"

    await harness.eventually(withdrawn, what="marketing consent withdrawn")


async def test_bad_payload_goes_to_the_dlq_with_the_reason(harness: Any) -> None:
    good = example_for(TaskCompleted)
    body = json.loads(good.model_dump_json())
    body["outcome"] = "furious"
    headers = [
        ("ce_id", b"bad-1"),
        ("ce_type", good.event_type.encode()),
        ("ce_source", b"/test"),
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2025-03-05T02:00:00Z"),
        ("ce_dealerid", DEALER.encode()),
        ("content-type", b"application/json"),
    ]
    await harness.produce_raw("notifier", json.dumps(body).encode(), headers)
    dlq = harness.topics.dlq(harness.topics.name("notifier"))
    found = await harness.eventually(
        lambda: read_dead_letters(harness.bootstrap, dlq, timeout_s=1.0),
        what="the dead letter",
        within_s=45,
    )
    assert len(found) == 1
    assert "EventDecodeError" in (found[0].error or "")
    assert "outcome" in (found[0].error or "")
    assert found[0].original_topic == harness.topics.name("notifier")
    assert found[0].value == json.dumps(body).encode()  # byte for byte, for a replay
    assert await harness.db("SELECT 1 FROM complaints") == []


async def test_trigger_waits_for_a_contact_arriving_on_another_topic(harness: Any) -> None:
    customer = uuid.uuid4()
    task = dissatisfied(customer, "task-early")
    await harness.produce(task)  # before any event with this customer's contact
    await harness.eventually(
        lambda: harness.db("SELECT 1 FROM awaiting_contact WHERE trigger_ref = 'task:task-early'"),
        what="the trigger parked",
    )
    assert len(await harness.pending_timers("contact-wait:")) == 1
    assert await harness.db("SELECT 1 FROM complaints") == []

    await harness.produce(delivered(customer))
    rows = await harness.eventually(
        lambda: _complaints_of(harness, customer), what="the complaint once the contact came"
    )
    assert [r["origin_ref"] for r in rows] == ["task:task-early"]
    assert await harness.db("SELECT 1 FROM awaiting_contact") == []
    assert await harness.pending_timers("contact-wait:") == []


async def test_trigger_without_a_contact_is_dead_lettered_and_replayable(harness: Any) -> None:
    customer = uuid.uuid4()
    task = dissatisfied(customer, "task-orphan")
    await harness.produce(task, event_id="orphan-1")
    await harness.eventually(
        lambda: harness.db("SELECT 1 FROM awaiting_contact"), what="the trigger parked"
    )
    harness.clock.advance(harness.settings.contact_wait - timedelta(seconds=1))
    await harness.fire_due()
    assert await harness.db("SELECT 1 FROM awaiting_contact")  # not yet

    harness.clock.advance(timedelta(seconds=2))
    await harness.eventually(lambda: _gone(harness), what="the wait to run out (timer fired)")
    dlq = harness.topics.dlq(harness.topics.name("notifier"))
    letters = await harness.eventually(
        lambda: read_dead_letters(harness.bootstrap, dlq, timeout_s=1.0),
        what="the dead-lettered trigger",
        within_s=45,
    )
    assert len(letters) == 1
    assert "ContactUnknown" in (letters[0].error or "")
    assert str(customer) in (letters[0].error or "")
    assert letters[0].original_topic == harness.topics.name("notifier")
    assert letters[0].consumer == "complaints.reactions"
    original = decode(letters[0].value, letters[0].original_headers)  # as it was consumed
    assert (original.meta.id, original.meta.source) == ("orphan-1", "/test/producer")
    assert original.event == task

    # the contact becomes known; replaying the letter now opens the complaint
    await harness.produce(delivered(customer))
    await harness.contact_known(DEALER, customer)
    await replay_dead_letters(harness.bootstrap, letters)
    rows = await harness.eventually(
        lambda: _complaints_of(harness, customer), what="the complaint after the replay"
    )
    assert [r["origin_ref"] for r in rows] == ["task:task-orphan"]


async def _gone(harness: Any) -> bool:
    await harness.fire_due()
    return not await harness.db("SELECT 1 FROM awaiting_contact")


async def test_repeat_repair_within_the_window_opens_a_complaint_once(harness: Any) -> None:
    customer = uuid.uuid4()
    first = example_for(RepairOrderOpened).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "repair_order_id": "ro-1",
            "concerns": ["Brake noise when stopping"],
            "concern_codes": [],
            "opened_at": harness.start - timedelta(days=12),
        }
    )
    handed = example_for(VehicleHandedOver).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "repair_order_id": "ro-1",
            "vin": first.vin,
            "handed_over_at": harness.start - timedelta(days=10),
        }
    )
    again = first.model_copy(
        update={
            "repair_order_id": "ro-2",
            "concerns": ["brake noise, when stopping!"],
            "opened_at": harness.start,
        }
    )
    other_concern = first.model_copy(
        update={"repair_order_id": "ro-3", "concerns": ["Wipers"], "opened_at": harness.start}
    )
    for event in (first, handed, other_concern, again):
        await harness.produce(event)
    republished = str(uuid.uuid4())
    await harness.produce(again, event_id=republished)
    await harness.handled(republished)
    rows = await harness.db(
        "SELECT origin::text AS origin, severity, vin FROM complaints WHERE customer_id = $1",
        customer,
    )
    assert len(rows) == 1
    assert json.loads(rows[0]["origin"]) == {
        "kind": "repeat_repair",
        "repair_order_id": "ro-2",
        "previous_repair_order_id": "ro-1",
    }
    assert rows[0]["severity"] == "high"
    assert rows[0]["vin"] == first.vin

    late = first.model_copy(
        update={"repair_order_id": "ro-4", "opened_at": harness.start + timedelta(days=25)}
    )
    await harness.produce(late, event_id="late-ro")
    await harness.handled("late-ro")  # ro-1 handed over 35 days before: not a repeat
    assert len(await harness.db("SELECT 1 FROM complaints WHERE customer_id = $1", customer)) == 1
