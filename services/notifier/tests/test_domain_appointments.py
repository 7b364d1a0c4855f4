"""Notifier planners after the booking of an appointment: a move re-plans its reminders,
a no-show plans the consultant's follow-up call (domain_appointments)."""

from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.notifier.domain import (
    RecordRef,
    StaffRole,
    appointment_reminder_keys,
    appointment_reminders_prefix,
)
from dealerflow.notifier.domain_appointments import (
    AppointmentMoveFacts,
    NoShowFacts,
    no_show_follow_up_key,
    plan_no_show_follow_up,
    reminders_after_move,
)
from dealerflow.policy import DealerPolicy, policy_with_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = DealerPolicy()
CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000001")
APPOINTMENT = RecordRef(RecordKind.APPOINTMENT, "A9")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def move(to: datetime, **kw: object) -> AppointmentMoveFacts:
    facts = {"reminder_kind": ReminderKind.TEST_DRIVE, "location": "Showroom 2", **kw}
    return AppointmentMoveFacts(
        "d1",
        CUSTOMER,
        APPOINTMENT,
        previous_starts_at=sh(2025, 3, 5, 10, 0),
        starts_at=to,
        **facts,  # type: ignore[arg-type]
    )


def test_a_move_plans_the_reminders_of_the_new_time() -> None:
    to = sh(2025, 3, 7, 15, 0)
    reminders = reminders_after_move(move(to), POLICY, sh(2025, 3, 4, 9, 0))
    assert [r.send_at for r in reminders] == [sh(2025, 3, 6, 15, 0), sh(2025, 3, 7, 13, 0)]
    assert [r.key for r in reminders] == appointment_reminder_keys(APPOINTMENT, to, POLICY)
    assert {r.kind for r in reminders} == {ReminderKind.TEST_DRIVE}
    assert reminders[0].params == {"appointment_time": "2025-03-07 15:00", "location": "Showroom 2"}
    # what the move replaces: every other reminder of the appointment, found by prefix
    before = appointment_reminder_keys(APPOINTMENT, sh(2025, 3, 5, 10, 0), POLICY)
    prefix = appointment_reminders_prefix(APPOINTMENT)
    assert all(k.startswith(prefix) for k in before)
    assert not {r.key for r in reminders} & set(before)


def test_the_same_move_again_plans_the_same_keys() -> None:
    to, now = sh(2025, 3, 7, 15, 0), sh(2025, 3, 4, 9, 0)
    assert reminders_after_move(move(to), POLICY, now) == reminders_after_move(
        move(to), POLICY, now
    )


def test_a_move_to_shortly_ahead_plans_only_what_is_still_ahead() -> None:
    now = sh(2025, 3, 5, 9, 0)
    soon = reminders_after_move(move(now + timedelta(hours=3)), POLICY, now)
    assert [r.key.split("@")[0] for r in soon] == ["appointment:A9:reminder-2h"]
    assert reminders_after_move(move(now + timedelta(minutes=90)), POLICY, now) == []


def test_a_move_that_does_not_say_the_purpose_gets_the_plain_reminder() -> None:
    to = sh(2025, 3, 7, 15, 0)
    plain = reminders_after_move(move(to, reminder_kind=None), POLICY, sh(2025, 3, 4))
    assert {r.kind for r in plain} == {ReminderKind.APPOINTMENT}


def test_the_reminders_follow_the_dealer_policy() -> None:
    policy = policy_with_overrides({"leads": {"appointment_reminders_before": ["PT3H"]}})
    to = sh(2025, 3, 7, 15, 0)
    [only] = reminders_after_move(move(to), policy, sh(2025, 3, 4))
    assert only.send_at == sh(2025, 3, 7, 12, 0)


def no_show(recorded_at: datetime) -> NoShowFacts:
    return NoShowFacts(
        dealer_id="d1",
        customer_id=CUSTOMER,
        record=APPOINTMENT,
        lead_id="L1",
        consultant_id="c7",
        scheduled_for=sh(2025, 3, 5, 10, 0),
        recorded_at=recorded_at,
    )


def test_a_no_show_is_a_follow_up_call_for_the_consultant_about_the_lead() -> None:
    task = plan_no_show_follow_up(no_show(sh(2025, 3, 5, 10, 30)), POLICY)
    assert task.key == no_show_follow_up_key(APPOINTMENT) == "appointment:A9:no-show"
    assert task.kind is TaskKind.APPOINTMENT_NO_SHOW
    assert (task.assignee_role, task.assignee_id) == (StaffRole.CONSULTANT, "c7")
    assert task.related == RecordRef(RecordKind.LEAD, "L1")
    assert task.customer_id == CUSTOMER
    # due as a phoned-in lead's first call: 24 hours by default
    assert task.due_at == sh(2025, 3, 6, 10, 30)
    assert "2025-03-05 10:00" in task.script


def test_the_no_show_call_is_due_per_the_dealers_phone_sla() -> None:
    policy = policy_with_overrides(
        {
            "leads": {
                "first_contact": {
                    "phone": {
                        "first_contact": {"duration": "PT2H", "mode": "business_hours"},
                        "thank_you_message": None,
                    }
                }
            }
        }
    )
    # recorded at 17:30 on a Wednesday (open 8:30-18:00): half an hour that day, the
    # other hour and a half on Thursday morning
    task = plan_no_show_follow_up(no_show(sh(2025, 3, 5, 17, 30)), policy)
    assert task.due_at == sh(2025, 3, 6, 10, 0)
