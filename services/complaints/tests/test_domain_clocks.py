"""Complaint SLA clocks: due times per severity, pause/resume, escalation ladder."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dealerflow.complaints.domain import (
    BreachOutcome,
    Clock,
    EscalationStep,
    escalation_step,
    on_breach,
    pause,
    resolve_clock_on_reopen,
    resume,
    sla_clocks,
)
from dealerflow.contracts.care_enums import ComplaintSeverity, SlaClock
from dealerflow.policy import ClockMode, DealerPolicy, policy_with_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = DealerPolicy()


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def clocks(
    severity: str, opened_at: datetime, policy: DealerPolicy = POLICY
) -> dict[SlaClock, Clock]:
    return {clock.kind: clock for clock in sla_clocks(severity, opened_at, policy)}


def test_critical_clocks_run_on_wall_time_even_at_night() -> None:
    friday_night = sh(2025, 3, 7, 22, 0)
    found = clocks(ComplaintSeverity.CRITICAL, friday_night)
    assert found[SlaClock.ACKNOWLEDGE].due_at == sh(2025, 3, 7, 22, 30)
    assert found[SlaClock.RESOLVE].due_at == sh(2025, 3, 8, 22, 0)
    assert found[SlaClock.FIRST_UPDATE].due_at == sh(2025, 3, 8, 2, 0)  # 4 h wall time
    # Inform: 7 statutory working days, the day of receipt not counted.
    assert found[SlaClock.INFORM].due_at == sh(2025, 3, 18, 22, 0)


def test_high_clocks_count_business_hours_and_days() -> None:
    evening = sh(2025, 3, 3, 17, 0)  # Monday
    found = clocks("high", evening)
    assert found[SlaClock.ACKNOWLEDGE].due_at == sh(2025, 3, 4, 9, 30)  # 1 h today, 1 h tomorrow
    assert found[SlaClock.RESOLVE].due_at == sh(2025, 3, 6, 17, 0)
    assert found[SlaClock.ACKNOWLEDGE].sla.mode is ClockMode.BUSINESS_HOURS
    # first update: 1 business day, the same local time on the next open day
    assert found[SlaClock.FIRST_UPDATE].due_at == sh(2025, 3, 4, 17, 0)
    assert found[SlaClock.FIRST_UPDATE].sla.mode is ClockMode.BUSINESS_DAYS


def test_normal_clocks_skip_a_holiday_closure() -> None:
    policy = policy_with_overrides({"calendar": {"holidays": ["2025-03-04", "2025-03-05"]}})
    found = clocks("normal", sh(2025, 3, 3, 20, 0), policy)
    assert found[SlaClock.ACKNOWLEDGE].due_at == sh(2025, 3, 6, 18, 0)  # next open day, clamped
    assert found[SlaClock.RESOLVE].due_at == sh(2025, 3, 12, 18, 0)
    # first update: 3 open days (Thu 6, Fri 7, Sat 8; the store opens at weekends), clamped
    assert found[SlaClock.FIRST_UPDATE].due_at == sh(2025, 3, 8, 18, 0)
    # Working days: Thu 6, Fri 7, Mon 10 ... Fri 14 (weekend and holidays skipped).
    assert found[SlaClock.INFORM].due_at == sh(2025, 3, 14, 20, 0)


def test_keys_name_the_complaint_clock_round_and_attempt() -> None:
    found = clocks("normal", sh(2025, 3, 3, 10, 0))
    assert found[SlaClock.RESOLVE].key("C8") == "complaint:C8:clock:resolve:0.0"
    reopened = resolve_clock_on_reopen("normal", sh(2025, 3, 20, 10, 0), 1, POLICY)
    assert reopened.key("C8") == "complaint:C8:clock:resolve:1.0"
    assert reopened.due_at == sh(2025, 3, 27, 10, 0)


def test_unknown_severity_is_rejected() -> None:
    with pytest.raises(ValueError, match="urgent"):
        sla_clocks("urgent", sh(2025, 3, 3, 10, 0), POLICY)


def test_pause_keeps_business_time_left_and_resume_reapplies_it() -> None:
    ack = clocks("high", sh(2025, 3, 3, 10, 0))[SlaClock.ACKNOWLEDGE]  # due 12:00
    paused = pause(ack, sh(2025, 3, 3, 11, 30), POLICY)
    assert paused.paused
    assert paused.due_at is None
    assert paused.remaining == timedelta(minutes=30)
    assert not paused.is_breached(sh(2025, 3, 10))
    resumed = resume(paused, sh(2025, 3, 3, 17, 45), POLICY)
    assert resumed.due_at == sh(2025, 3, 4, 8, 45)  # 15 min today, 15 min tomorrow
    assert not resumed.paused
    assert resumed.is_breached(sh(2025, 3, 4, 8, 45))
    assert not resumed.is_breached(sh(2025, 3, 4, 8, 44))


def test_pause_on_a_wall_clock_keeps_real_time() -> None:
    resolve = clocks("critical", sh(2025, 3, 3, 10, 0))[SlaClock.RESOLVE]
    paused = pause(resolve, sh(2025, 3, 3, 20, 0), POLICY)
    assert paused.remaining == timedelta(hours=14)
    assert resume(paused, sh(2025, 3, 5, 9, 0), POLICY).due_at == sh(2025, 3, 5, 23, 0)


def test_pause_and_resume_are_idempotent() -> None:
    ack = clocks("high", sh(2025, 3, 3, 10, 0))[SlaClock.ACKNOWLEDGE]
    assert resume(ack, sh(2025, 3, 3, 11, 0), POLICY) == ack
    once = pause(ack, sh(2025, 3, 3, 11, 0), POLICY)
    assert pause(once, sh(2025, 3, 3, 11, 30), POLICY) == once


def test_legal_inform_clock_does_not_pause_unless_the_dealer_says_so() -> None:
    opened = sh(2025, 3, 3, 10, 0)
    inform = clocks("normal", opened)[SlaClock.INFORM]
    assert pause(inform, sh(2025, 3, 4, 10, 0), POLICY) == inform
    lenient = policy_with_overrides({"complaints": {"inform_clock_pausable": True}})
    lenient_inform = clocks("normal", opened, lenient)[SlaClock.INFORM]
    assert pause(lenient_inform, sh(2025, 3, 4, 10, 0), lenient).paused


def test_escalation_ladder() -> None:
    assert escalation_step(0, POLICY) == EscalationStep(1, "department_manager")
    assert escalation_step(1, POLICY) == EscalationStep(2, "gm")
    assert escalation_step(2, POLICY) == EscalationStep(3, "oem_region")
    assert escalation_step(3, POLICY) is None
    with pytest.raises(ValueError, match="negative"):
        escalation_step(-1, POLICY)
    short = policy_with_overrides(
        {"complaints": {"escalation_ladder": ["handler", "department_manager"]}}
    )
    assert escalation_step(0, short) == EscalationStep(1, "department_manager")
    assert escalation_step(1, short) is None


def test_each_breach_escalates_and_rearms_until_the_ladder_ends() -> None:
    ack = clocks("critical", sh(2025, 3, 3, 10, 0))[SlaClock.ACKNOWLEDGE]  # due 10:30
    first = on_breach(ack, 0, sh(2025, 3, 3, 10, 30), POLICY)
    assert first.escalation == EscalationStep(1, "department_manager")
    assert first.rearmed is not None
    assert first.rearmed.due_at == sh(2025, 3, 3, 11, 0)
    assert first.rearmed.key("C8") == "complaint:C8:clock:acknowledge:0.1"
    second = on_breach(first.rearmed, 1, sh(2025, 3, 3, 11, 0), POLICY)
    assert second.escalation == EscalationStep(2, "gm")
    assert second.rearmed is not None
    assert second.rearmed.attempt == 2
    third = on_breach(second.rearmed, 2, sh(2025, 3, 3, 11, 30), POLICY)
    assert third == BreachOutcome(EscalationStep(3, "oem_region"), None)
    assert on_breach(second.rearmed, 3, sh(2025, 3, 3, 12, 0), POLICY) == BreachOutcome(None, None)


def test_rearmed_business_clock_counts_business_time_again() -> None:
    ack = clocks("high", sh(2025, 3, 3, 10, 0))[SlaClock.ACKNOWLEDGE]
    outcome = on_breach(ack, 0, sh(2025, 3, 3, 17, 0), POLICY)
    assert outcome.rearmed is not None
    assert outcome.rearmed.due_at == sh(2025, 3, 4, 9, 30)
