"""Complaint SLA clocks: due times per severity, pause/resume, escalation ladder."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from dealerflow.complaints.domain import (
    BreachOutcome,
    Clock,
    EscalationStep,
    escalation_step,
    on_breach,
    pause,
    resolve_clock_on_reopen,
    resume,
    scaled_sla,
    sla_clocks,
)
from dealerflow.contracts.care_enums import ComplaintSeverity, SlaClock
from dealerflow.policy import ClockMode, DealerPolicy, SlaSpec, policy_with_overrides

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


# -- tiers ---------------------------------------------------------------------------------


def test_scaled_sla_is_exact_for_hours_and_rounds_days_half_up() -> None:
    wall = SlaSpec(duration=timedelta(minutes=30), mode=ClockMode.WALL)
    hours = SlaSpec(duration=timedelta(hours=2), mode=ClockMode.BUSINESS_HOURS)
    days = SlaSpec(duration=timedelta(days=7), mode=ClockMode.BUSINESS_DAYS)
    one_day = SlaSpec(duration=timedelta(days=1), mode=ClockMode.BUSINESS_DAYS)
    assert scaled_sla(wall, Decimal("0.5")).duration == timedelta(minutes=15)
    assert scaled_sla(hours, Decimal("0.75")) == SlaSpec(
        duration=timedelta(hours=1, minutes=30), mode=ClockMode.BUSINESS_HOURS
    )
    assert scaled_sla(days, Decimal("0.5")).duration == timedelta(days=4)  # 3.5 -> 4
    assert scaled_sla(days, Decimal("0.75")).duration == timedelta(days=5)  # 5.25 -> 5
    assert scaled_sla(one_day, Decimal("0.25")).duration == timedelta(days=1)  # at least 1
    assert scaled_sla(days, Decimal(1)) is days


def test_a_vip_gets_shorter_clocks_except_the_legal_inform() -> None:
    opened = sh(2025, 3, 7, 22, 0)
    regular = clocks(ComplaintSeverity.CRITICAL, opened)
    vip = {c.kind: c for c in sla_clocks("critical", opened, POLICY, "vip")}
    key = {c.kind: c for c in sla_clocks("critical", opened, POLICY, "key")}
    assert vip[SlaClock.ACKNOWLEDGE].due_at == sh(2025, 3, 7, 22, 15)
    assert key[SlaClock.ACKNOWLEDGE].sla.duration == timedelta(minutes=22, seconds=30)
    assert vip[SlaClock.FIRST_UPDATE].due_at == sh(2025, 3, 8, 0, 0)  # 2 of 4 h
    assert vip[SlaClock.RESOLVE].due_at == sh(2025, 3, 8, 10, 0)  # 12 of 24 h
    assert vip[SlaClock.INFORM].due_at == regular[SlaClock.INFORM].due_at
    # no tier known: regular
    assert {c.kind: c.due_at for c in sla_clocks("critical", opened, POLICY, None)} == {
        k: c.due_at for k, c in regular.items()
    }
    # a dealer's own factors; a reopening's resolve clock keeps the tier
    policy = policy_with_overrides({"complaints": {"tier_sla_factors": {"vip": "0.25"}}})
    assert {c.kind: c for c in sla_clocks("critical", opened, policy, "vip")}[
        SlaClock.RESOLVE
    ].sla.duration == timedelta(hours=6)
    reopened = resolve_clock_on_reopen("critical", opened, 1, POLICY, "vip")
    assert reopened.sla.duration == timedelta(hours=12)


def test_tier_factors_only_shorten() -> None:
    with pytest.raises(ValidationError, match="must be in"):
        policy_with_overrides({"complaints": {"tier_sla_factors": {"vip": "1.5"}}})
    with pytest.raises(ValidationError, match="must be in"):
        policy_with_overrides({"complaints": {"tier_sla_factors": {"key": "0"}}})
