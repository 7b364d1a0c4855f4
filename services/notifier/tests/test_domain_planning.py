"""Notifier planners: tasks, reminders and watch alerts an event causes."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain import (
    AlertKind,
    AppointmentFacts,
    DeclinedItemFacts,
    DeliveryFacts,
    HandoverFacts,
    LeadFacts,
    PlannedAlert,
    PlannedItem,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
    appointment_reminder_keys,
    appointment_reminder_kind,
    appointment_reminders_prefix,
    first_contact_key,
    first_contact_watch_keys,
    grade_follow_up_prefixes,
    next_insurance_renewal,
    plan_appointment_reminders,
    plan_declined_item_followup,
    plan_first_contact,
    plan_follow_up,
    plan_owner_care,
    plan_service_followup,
    plan_unreachable_retry,
)
from dealerflow.notifier.domain_leads import LeadFollowUp
from dealerflow.policy import DealerPolicy, policy_with_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = DealerPolicy()
Item = TypeVar("Item", PlannedTask, PlannedReminder, PlannedAlert)
CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000001")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def lead(channel: str, created_at: datetime) -> LeadFacts:
    return LeadFacts("d1", CUSTOMER, "L1", channel, created_at, consultant_id="c7")


def by_key(items: Sequence[PlannedItem]) -> dict[str, PlannedItem]:
    return {item.key: item for item in items}


def the(items: dict[str, PlannedItem], key: str, kind: type[Item]) -> Item:
    """The planned item with `key`, checked to be of the expected class."""
    item = items[key]
    assert isinstance(item, kind)
    return item


# -- first contact ------------------------------------------------------------------------


def test_online_lead_gets_15_business_minutes_with_warning_escalation_and_reassign() -> None:
    items = by_key(
        plan_first_contact(lead("online", sh(2025, 3, 3, 10, 0)), POLICY, sh(2025, 3, 3, 10, 0))
    )
    assert set(items) == {
        "lead:L1:first-contact",
        "lead:L1:first-contact:warn",
        "lead:L1:first-contact:escalate",
        "lead:L1:first-contact:reassign",
    }
    task = items[first_contact_key("L1")]
    assert isinstance(task, PlannedTask)
    assert task.kind is TaskKind.LEAD_FIRST_CONTACT
    assert (task.due_at, task.assignee_role, task.assignee_id) == (
        sh(2025, 3, 3, 10, 15),
        StaffRole.CONSULTANT,
        "c7",
    )
    assert task.related == RecordRef(RecordKind.LEAD, "L1")
    warn, escalate, reassign = (items[k] for k in first_contact_watch_keys("L1"))
    assert isinstance(warn, PlannedAlert)
    assert isinstance(escalate, PlannedAlert)
    assert isinstance(reassign, PlannedAlert)
    assert (warn.kind, warn.fire_at, warn.recipient_id) == (
        AlertKind.WARNING,
        sh(2025, 3, 3, 10, 12),
        "c7",
    )
    assert (escalate.fire_at, escalate.recipient_role) == (
        sh(2025, 3, 3, 10, 15),
        StaffRole.SALES_MANAGER,
    )
    assert escalate.recipient_id is None
    assert (reassign.kind, reassign.fire_at) == (AlertKind.REASSIGN, sh(2025, 3, 3, 10, 30))
    assert {warn.watches, escalate.watches, reassign.watches} == {"lead:L1:first-contact"}


def test_online_lead_after_closing_counts_from_next_opening() -> None:
    items = by_key(
        plan_first_contact(lead("wechat", sh(2025, 3, 3, 17, 55)), POLICY, sh(2025, 3, 3, 17, 55))
    )
    assert the(items, "lead:L1:first-contact", PlannedTask).due_at == sh(2025, 3, 4, 8, 40)
    assert the(items, "lead:L1:first-contact:warn", PlannedAlert).fire_at == sh(2025, 3, 4, 8, 37)
    assert the(items, "lead:L1:first-contact:reassign", PlannedAlert).fire_at == sh(
        2025, 3, 4, 8, 55
    )


def test_walk_in_gets_thank_you_at_two_hours_and_a_call_within_24_hours() -> None:
    created = sh(2025, 3, 3, 15, 0)
    items = by_key(plan_first_contact(lead("walk_in", created), POLICY, created))
    assert the(items, "lead:L1:first-contact", PlannedTask).due_at == sh(2025, 3, 4, 15, 0)
    assert the(items, "lead:L1:first-contact:warn", PlannedAlert).fire_at == created + timedelta(
        hours=19, minutes=12
    )
    assert the(items, "lead:L1:first-contact:reassign", PlannedAlert).fire_at == sh(
        2025, 3, 5, 15, 0
    )
    thanks = items["lead:L1:thank-you"]
    assert isinstance(thanks, PlannedReminder)
    assert (thanks.kind, thanks.purpose) == (ReminderKind.THANK_YOU, ConsentPurpose.SERVICE)
    assert thanks.send_at == sh(2025, 3, 3, 17, 0)


def test_thank_you_due_in_quiet_hours_waits_for_the_morning() -> None:
    items = by_key(
        plan_first_contact(lead("phone", sh(2025, 3, 3, 20, 0)), POLICY, sh(2025, 3, 3, 20, 0))
    )
    assert the(items, "lead:L1:thank-you", PlannedReminder).send_at == sh(2025, 3, 4, 8, 0)


def test_late_processing_keeps_deadlines_but_never_plans_a_message_in_the_past() -> None:
    created, now = sh(2025, 3, 3, 9, 0), sh(2025, 3, 3, 14, 0)
    items = by_key(plan_first_contact(lead("walk_in", created), POLICY, now))
    assert the(items, "lead:L1:first-contact", PlannedTask).due_at == sh(2025, 3, 4, 9, 0)
    assert the(items, "lead:L1:thank-you", PlannedReminder).send_at == now


def test_planning_the_same_lead_twice_gives_the_same_items() -> None:
    facts, now = lead("online", sh(2025, 3, 3, 10, 0)), sh(2025, 3, 3, 10, 0)
    assert plan_first_contact(facts, POLICY, now) == plan_first_contact(facts, POLICY, now)


def test_unknown_channel_gets_the_strictest_sla_and_reassign_count_is_a_setting() -> None:
    policy = policy_with_overrides({"leads": {"reassign_after_breaches": 3}})
    items = by_key(
        plan_first_contact(lead("fax", sh(2025, 3, 3, 10, 0)), policy, sh(2025, 3, 3, 10, 0))
    )
    assert the(items, "lead:L1:first-contact", PlannedTask).due_at == sh(2025, 3, 3, 10, 15)
    assert the(items, "lead:L1:first-contact:reassign", PlannedAlert).fire_at == sh(
        2025, 3, 3, 10, 45
    )


# -- grade cadence ------------------------------------------------------------------------


def graded_only(grade: str, at: datetime, consultant: str | None = None) -> LeadFollowUp:
    """A lead known only by its grading (no contact logged since)."""
    return LeadFollowUp("d1", CUSTOMER, "L1", consultant, grade, at)


def test_grade_h_gets_a_two_day_follow_up_and_a_regrade_prompt() -> None:
    graded = sh(2025, 3, 3, 11, 0)
    tasks = plan_follow_up(graded_only("H", graded, "c7"), POLICY)
    assert [(t.kind, t.due_at) for t in tasks] == [
        (TaskKind.LEAD_FOLLOW_UP, graded + timedelta(days=2)),
        (TaskKind.LEAD_REGRADE, graded + timedelta(days=7)),
    ]
    assert tasks[0].key == "lead:L1:follow-up@20250303T030000Z"


@pytest.mark.parametrize(("grade", "days"), [("A", 3), ("B", 7), ("C", 14)])
def test_grade_cadence(grade: str, days: int) -> None:
    graded = sh(2025, 3, 3, 11, 0)
    (task,) = plan_follow_up(graded_only(grade, graded), POLICY)
    assert task.due_at == graded + timedelta(days=days)


@pytest.mark.parametrize("grade", ["N", "O", "D", "F"])
def test_grades_without_cadence_plan_nothing(grade: str) -> None:
    assert plan_follow_up(graded_only(grade, sh(2025, 3, 3, 11, 0)), POLICY) == []


def test_grade_keys_live_under_the_prefixes_a_newer_grade_cancels() -> None:
    graded = sh(2025, 3, 3, 11, 0)
    hot = plan_follow_up(graded_only("H", graded), POLICY)
    follow_up, regrade = grade_follow_up_prefixes("L1")
    assert [t.key.startswith(p) for t, p in zip(hot, (follow_up, regrade), strict=True)] == [
        True,
        True,
    ]
    # the same grade planned again: the same keys (nothing doubles) ...
    again = plan_follow_up(graded_only("H", graded), POLICY)
    assert [t.key for t in again] == [t.key for t in hot]
    # ... a later grade: new keys under the same prefixes, so the earlier ones can go
    later = sh(2025, 3, 4, 9, 30)
    (warm,) = plan_follow_up(graded_only("B", later), POLICY)
    assert warm.key.startswith(follow_up)
    assert warm.key not in {t.key for t in hot}
    assert warm.due_at == later + timedelta(days=7)
    # another lead's prefix does not cover this lead's keys (L1 vs L10)
    assert not any(t.key.startswith(grade_follow_up_prefixes("L10")) for t in hot)


def test_the_cadence_follows_the_dealer_policy() -> None:
    policy = policy_with_overrides({"leads": {"follow_up_every": {"A": "P5D"}}})
    graded = sh(2025, 3, 3, 11, 0)
    (task,) = plan_follow_up(graded_only("A", graded), policy)
    assert task.due_at == graded + timedelta(days=5)


# -- appointments -------------------------------------------------------------------------

APPOINTMENT = RecordRef(RecordKind.APPOINTMENT, "A9")


def appointment(starts_at: datetime) -> AppointmentFacts:
    return AppointmentFacts("d1", CUSTOMER, APPOINTMENT, starts_at, location="Showroom 2")


def test_reminders_24h_and_2h_before() -> None:
    starts = sh(2025, 3, 5, 10, 0)
    reminders = plan_appointment_reminders(appointment(starts), POLICY, sh(2025, 3, 1, 9, 0))
    assert [r.send_at for r in reminders] == [sh(2025, 3, 4, 10, 0), sh(2025, 3, 5, 8, 0)]
    assert [r.key for r in reminders] == [
        "appointment:A9:reminder-24h@20250305T020000Z",
        "appointment:A9:reminder-2h@20250305T020000Z",
    ]
    assert reminders[0].params == {"appointment_time": "2025-03-05 10:00", "location": "Showroom 2"}
    assert appointment_reminder_keys(APPOINTMENT, starts, POLICY) == [r.key for r in reminders]


def test_reminder_in_quiet_hours_moves_to_the_morning_or_is_dropped() -> None:
    early = plan_appointment_reminders(appointment(sh(2025, 3, 5, 9, 0)), POLICY, sh(2025, 3, 1))
    assert [r.send_at for r in early] == [sh(2025, 3, 4, 9, 0), sh(2025, 3, 5, 8, 0)]
    at_eight = plan_appointment_reminders(appointment(sh(2025, 3, 5, 8, 0)), POLICY, sh(2025, 3, 1))
    assert [r.send_at for r in at_eight] == [sh(2025, 3, 4, 8, 0)]


def test_no_reminder_in_the_past() -> None:
    starts = sh(2025, 3, 5, 10, 0)
    late_booking = plan_appointment_reminders(appointment(starts), POLICY, sh(2025, 3, 4, 14, 0))
    assert [r.key.split("@")[0] for r in late_booking] == ["appointment:A9:reminder-2h"]
    assert plan_appointment_reminders(appointment(starts), POLICY, sh(2025, 3, 5, 9, 0)) == []


def test_rescheduled_appointment_gets_new_keys() -> None:
    first = appointment_reminder_keys(APPOINTMENT, sh(2025, 3, 5, 10, 0), POLICY)
    moved = appointment_reminder_keys(APPOINTMENT, sh(2025, 3, 6, 10, 0), POLICY)
    assert not set(first) & set(moved)
    prefix = appointment_reminders_prefix(APPOINTMENT)
    assert prefix == "appointment:A9:reminder-"
    assert all(k.startswith(prefix) for k in first + moved)
    # a cancellation by prefix never reaches another appointment's reminders (A9 vs A90)
    other = RecordRef(RecordKind.APPOINTMENT, "A90")
    assert not any(
        k.startswith(prefix) for k in appointment_reminder_keys(other, sh(2025, 3, 5), POLICY)
    )


@pytest.mark.parametrize(
    ("purpose", "kind"),
    [
        ("store_visit", ReminderKind.APPOINTMENT),
        ("test_drive", ReminderKind.TEST_DRIVE),
        ("delivery", ReminderKind.DELIVERY),
        ("something_new", ReminderKind.APPOINTMENT),
    ],
)
def test_the_reminder_template_follows_the_appointment_purpose(
    purpose: str, kind: ReminderKind
) -> None:
    assert appointment_reminder_kind(purpose) is kind
    facts = AppointmentFacts("d1", CUSTOMER, APPOINTMENT, sh(2025, 3, 5, 10, 0), reminder_kind=kind)
    reminders = plan_appointment_reminders(facts, POLICY, sh(2025, 3, 1))
    assert {r.kind for r in reminders} == {kind}
    assert {r.purpose for r in reminders} == {ConsentPurpose.SERVICE}


# -- owner care ---------------------------------------------------------------------------


def delivery(**kw: object) -> DeliveryFacts:
    facts = {"delivered_at": sh(2025, 3, 3, 10, 0), "consultant_id": "c7", **kw}
    return DeliveryFacts("d1", CUSTOMER, "DL5", **facts)  # type: ignore[arg-type]


def test_owner_care_plan_after_delivery() -> None:
    items = by_key(plan_owner_care(delivery(), POLICY))
    callback = items["delivery:DL5:callback-24h"]
    assert isinstance(callback, PlannedTask)
    assert (callback.kind, callback.due_at, callback.assignee_id) == (
        TaskKind.DELIVERY_CALLBACK,
        sh(2025, 3, 4, 10, 0),
        "c7",
    )
    satisfaction = items["delivery:DL5:satisfaction-7d"]
    assert isinstance(satisfaction, PlannedTask)
    assert (satisfaction.due_at, satisfaction.assignee_role) == (
        sh(2025, 3, 10, 10, 0),
        StaffRole.CUSTOMER_RELATIONS,
    )
    assert not any("maintenance" in key for key in items)  # service-center's calendar
    insurance = items["delivery:DL5:insurance-renewal-1y"]
    assert isinstance(insurance, PlannedReminder)
    assert insurance.send_at == sh(2026, 2, 1, 10, 0)
    assert insurance.params == {"renewal_date": "2026-03-03"}
    assert plan_owner_care(delivery(), POLICY) == plan_owner_care(delivery(), POLICY)


def test_the_insurance_renewal_is_about_the_delivered_contract_when_named() -> None:
    # the contract's cancellation (an outside DMS, after the delivery) finds it
    key = "delivery:DL5:insurance-renewal-1y"
    without = the(by_key(plan_owner_care(delivery(), POLICY)), key, PlannedReminder)
    assert without.related == RecordRef(RecordKind.DELIVERY, "DL5")
    items = by_key(plan_owner_care(delivery(contract_id="C-5"), POLICY))
    insurance = the(items, key, PlannedReminder)
    assert insurance.related == RecordRef(RecordKind.CONTRACT, "C-5")
    following = next_insurance_renewal(insurance, POLICY)
    assert following is not None
    assert following.related == insurance.related
    # the callbacks stay about the delivery
    callback = the(items, "delivery:DL5:callback-24h", PlannedTask)
    assert callback.related == RecordRef(RecordKind.DELIVERY, "DL5")


def test_each_insurance_renewal_plans_the_next_year_s() -> None:
    first = the(
        by_key(plan_owner_care(delivery(), POLICY)),
        "delivery:DL5:insurance-renewal-1y",
        PlannedReminder,
    )
    second = next_insurance_renewal(first, POLICY)
    assert second is not None
    assert second.key == "delivery:DL5:insurance-renewal-2y"
    assert second.params == {"renewal_date": "2027-03-03"}
    assert second.send_at == sh(2027, 2, 1, 10, 0)  # 30 days before, 10:00 local
    assert (second.related, second.purpose) == (first.related, first.purpose)
    third = next_insurance_renewal(second, POLICY)
    assert third is not None
    assert (third.key, third.params["renewal_date"]) == (
        "delivery:DL5:insurance-renewal-3y",
        "2028-03-03",
    )
    other = replace(first, kind=ReminderKind.THANK_YOU)
    assert next_insurance_renewal(other, POLICY) is None


def test_dates_are_dealer_local_and_insurance_start_can_be_given() -> None:
    just_after_midnight = datetime(2025, 3, 2, 16, 30, tzinfo=UTC)  # 3 March 00:30 in Shanghai
    items = by_key(
        plan_owner_care(
            delivery(delivered_at=just_after_midnight, insurance_start=date(2025, 2, 20)), POLICY
        )
    )
    no_start = by_key(plan_owner_care(delivery(delivered_at=just_after_midnight), POLICY))
    assert the(no_start, "delivery:DL5:insurance-renewal-1y", PlannedReminder).params == {
        "renewal_date": "2026-03-03"  # a year from the dealer-local delivery date
    }
    assert the(items, "delivery:DL5:insurance-renewal-1y", PlannedReminder).send_at == sh(
        2026, 1, 21, 10, 0
    )


def test_owner_care_numbers_come_from_the_policy() -> None:
    policy = policy_with_overrides(
        {
            "owner_care": {
                "insurance_renewal_remind_before": "P10D",
                "callback_after_delivery": "PT12H",
            },
            "contact": {"reminder_send_time": "09:30"},
        }
    )
    items = by_key(plan_owner_care(delivery(), policy))
    assert the(items, "delivery:DL5:callback-24h", PlannedTask).due_at == sh(2025, 3, 3, 22, 0)
    assert the(items, "delivery:DL5:insurance-renewal-1y", PlannedReminder).send_at == sh(
        2026, 2, 21, 9, 30
    )


# -- service ------------------------------------------------------------------------------

HANDOVER = HandoverFacts("d1", CUSTOMER, "RO42", sh(2025, 3, 3, 16, 0), advisor_id="a3")


def test_service_followup_three_days_after_handover() -> None:
    task = plan_service_followup(HANDOVER, POLICY)
    assert (task.key, task.kind, task.due_at, task.assignee_role, task.assignee_id) == (
        "repair-order:RO42:callback-3d",
        TaskKind.SERVICE_CALLBACK,
        sh(2025, 3, 6, 16, 0),
        StaffRole.ADVISOR,
        "a3",
    )


def test_unreachable_retries_daily_then_falls_back_to_a_message() -> None:
    original = plan_service_followup(HANDOVER, POLICY)
    now = sh(2025, 3, 6, 16, 30)
    retry = plan_unreachable_retry(original, 1, now, POLICY)
    assert isinstance(retry, PlannedTask)
    assert (retry.key, retry.due_at) == (
        "repair-order:RO42:callback-3d:attempt-2",
        sh(2025, 3, 7, 16, 30),
    )
    assert isinstance(plan_unreachable_retry(original, 4, now, POLICY), PlannedTask)
    fallback = plan_unreachable_retry(original, 5, sh(2025, 3, 10, 21, 30), POLICY)
    assert isinstance(fallback, PlannedReminder)
    assert fallback.kind is ReminderKind.SERVICE_FOLLOW_UP
    assert fallback.key == "repair-order:RO42:callback-3d:message-fallback"
    assert fallback.send_at == sh(2025, 3, 11, 8, 0)


def test_declined_item_followup_defaults_to_30_days() -> None:
    declined = DeclinedItemFacts(
        "d1", CUSTOMER, "RO42", "I1", "rear brake pads", sh(2025, 3, 3, 16, 0), "a3"
    )
    task = plan_declined_item_followup(declined, POLICY)
    assert (task.kind, task.due_at) == (TaskKind.DECLINED_REPAIR_FOLLOW_UP, sh(2025, 4, 2, 10, 0))
    assert task.key == "repair-order:RO42:declined:I1:follow-up"
    assert "rear brake pads" in task.script
    dated = DeclinedItemFacts(
        "d1", CUSTOMER, "RO42", "I1", "pads", sh(2025, 3, 3, 16, 0), follow_up_on=date(2025, 3, 20)
    )
    assert plan_declined_item_followup(dated, POLICY).due_at == datetime.combine(
        date(2025, 3, 20), time(10, 0), SHANGHAI
    )


# -- complaints ---------------------------------------------------------------------------
