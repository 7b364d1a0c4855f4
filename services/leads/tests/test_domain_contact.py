from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from dealerflow.leads.domain import (
    ContactChannel,
    ContactLogEntry,
    ContactOutcome,
    Grade,
    LeadSnapshot,
    LeadSource,
    LostReason,
    apply_contact_log_entry,
    is_sales_follow_up_allowed,
    record_invitation_declined,
    validate_contact_log_entry,
)
from dealerflow.policy import LeadPolicy

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
CALL = NOW - timedelta(hours=2)
LEADS = LeadPolicy()  # follow-up cadence H 2 days, A 3, B 7, C 14


def _entry(**overrides: Any) -> ContactLogEntry:
    base = ContactLogEntry(
        contacted_at=CALL,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.REACHED,
        grade_after=Grade.H,
        next_contact_at=CALL + timedelta(days=2),
        notes="wants the long-range version",
    )
    return replace(base, **overrides)


def _lead(**overrides: Any) -> LeadSnapshot:
    base = LeadSnapshot(
        lead_id=UUID(int=1),
        dealer_id="d1",
        phone_e164="+8613800138000",
        grade=Grade.A,
        source=LeadSource.WEBSITE,
        created_at=NOW - timedelta(days=5),
    )
    return replace(base, **overrides)


def test_valid_entry_has_no_problems() -> None:
    assert validate_contact_log_entry(_entry(), Grade.A, NOW, LEADS) == ()


def test_next_contact_exactly_at_cadence_is_fine_one_second_later_is_not() -> None:
    assert validate_contact_log_entry(_entry(), Grade.N, NOW, LEADS) == ()
    late = _entry(next_contact_at=CALL + timedelta(days=2, seconds=1))
    (problem,) = validate_contact_log_entry(late, Grade.N, NOW, LEADS)
    assert "too late" in problem


def test_active_grade_needs_a_next_contact_after_the_contact() -> None:
    assert validate_contact_log_entry(_entry(next_contact_at=None), Grade.A, NOW, LEADS) == (
        "grade H needs a next contact date",
    )
    (problem,) = validate_contact_log_entry(_entry(next_contact_at=CALL), Grade.A, NOW, LEADS)
    assert "after contacted_at" in problem


def test_unreached_new_lead_stays_n_but_needs_another_attempt() -> None:
    unreachable = _entry(
        outcome=ContactOutcome.UNREACHABLE,
        grade_after=Grade.N,
        next_contact_at=CALL + timedelta(hours=4),
    )
    assert validate_contact_log_entry(unreachable, Grade.N, NOW, LEADS) == ()
    assert validate_contact_log_entry(
        replace(unreachable, next_contact_at=None), Grade.N, NOW, LEADS
    )


def test_future_contact_and_naive_times_are_rejected() -> None:
    future = _entry(
        contacted_at=NOW + timedelta(minutes=6), next_contact_at=NOW + timedelta(days=1)
    )
    assert validate_contact_log_entry(future, Grade.A, NOW, LEADS) == (
        "contacted_at is in the future",
    )
    within_skew = replace(future, contacted_at=NOW + timedelta(minutes=5))
    assert validate_contact_log_entry(within_skew, Grade.A, NOW, LEADS) == ()
    naive = _entry(contacted_at=CALL.replace(tzinfo=None))
    assert validate_contact_log_entry(naive, Grade.A, NOW, LEADS) == (
        "contacted_at must be timezone-aware",
    )


def test_lost_entry_needs_reason_and_no_next_contact() -> None:
    lost = _entry(grade_after=Grade.F, next_contact_at=None, lost_reason=LostReason.PRICE)
    assert validate_contact_log_entry(lost, Grade.B, NOW, LEADS) == ()
    problems = validate_contact_log_entry(
        replace(lost, lost_reason=None, next_contact_at=CALL + timedelta(days=1)),
        Grade.B,
        NOW,
        LEADS,
    )
    assert problems == ("grade F needs a lost reason", "a lost lead (F) gets no next contact date")


def test_invalid_grade_change_is_reported() -> None:
    problems = validate_contact_log_entry(_entry(grade_after=Grade.D), Grade.A, NOW, LEADS)
    assert problems == ("grade A cannot change to D",)


def test_declined_invitation_needs_no_next_contact() -> None:
    declined = _entry(invitation_declined=True, grade_after=Grade.C, next_contact_at=None)
    assert validate_contact_log_entry(declined, Grade.B, NOW, LEADS) == ()


def test_declined_invitation_suppresses_sales_follow_ups_until_reengagement() -> None:
    lead = _lead()
    assert is_sales_follow_up_allowed(lead)
    declined = apply_contact_log_entry(lead, _entry(invitation_declined=True, grade_after=Grade.C))
    assert declined.grade is Grade.C
    assert declined.invitation_declined_at == CALL
    assert not is_sales_follow_up_allowed(declined)
    # our own follow-up call does not lift it; the customer calling us does
    ours = apply_contact_log_entry(declined, _entry(contacted_at=NOW, grade_after=Grade.C))
    assert not is_sales_follow_up_allowed(ours)
    theirs = apply_contact_log_entry(
        declined, _entry(contacted_at=NOW, grade_after=Grade.B, customer_initiated=True)
    )
    assert theirs.reengaged_at == NOW
    assert is_sales_follow_up_allowed(theirs)
    assert is_sales_follow_up_allowed(replace(declined, reengaged_at=NOW))
    assert not is_sales_follow_up_allowed(record_invitation_declined(lead, NOW))


def test_reengagement_before_a_new_decline_does_not_lift_it() -> None:
    lead = _lead(
        reengaged_at=NOW - timedelta(days=3), invitation_declined_at=NOW - timedelta(days=1)
    )
    assert not is_sales_follow_up_allowed(lead)
    # same instant is not "after"
    assert not is_sales_follow_up_allowed(replace(lead, reengaged_at=lead.invitation_declined_at))


@pytest.mark.parametrize("grade", [Grade.O, Grade.D, Grade.F])
def test_no_sales_follow_up_once_signed_delivered_or_lost(grade: Grade) -> None:
    assert not is_sales_follow_up_allowed(_lead(grade=grade))
