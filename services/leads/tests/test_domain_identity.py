"""De-duplication by phone: create a lead or touch the open one (phone spellings: contracts)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from dealerflow.leads.domain import (
    Grade,
    LeadSnapshot,
    LeadSource,
    MergeAction,
    SubmissionFacts,
    merge_submission,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DEALER = "dealer-sh-01"


def _submission(**overrides: Any) -> SubmissionFacts:
    base = SubmissionFacts(
        dealer_id=DEALER,
        phone="138 0013 8000",
        source=LeadSource.WEBSITE,
        received_at=T0,
        models_of_interest=("Model X",),
    )
    return replace(base, **overrides)


def _lead(**overrides: Any) -> LeadSnapshot:
    base = LeadSnapshot(
        lead_id=UUID(int=1),
        dealer_id=DEALER,
        phone_e164="+8613800138000",
        grade=Grade.B,
        source=LeadSource.WEBSITE,
        created_at=T0 - timedelta(days=10),
        models_of_interest=("Model X",),
    )
    return replace(base, **overrides)


def test_first_submission_creates_a_lead() -> None:
    decision = merge_submission(None, _submission())
    assert decision.action is MergeAction.CREATE
    assert decision.lead_id is None
    assert decision.phone_e164 == "+8613800138000"


def test_submission_for_an_open_lead_is_a_touch_not_a_second_lead() -> None:
    lead = _lead()
    decision = merge_submission(lead, _submission(models_of_interest=("model x", "Model Y", "")))
    assert decision.action is MergeAction.TOUCH
    assert decision.lead_id == lead.lead_id
    # case-insensitive: "model x" is already known; blanks ignored
    assert decision.new_models_of_interest == ("Model Y",)
    assert not decision.reengaged
    assert not decision.became_referral


@pytest.mark.parametrize("grade", [Grade.N, Grade.H, Grade.C, Grade.O])
def test_every_open_grade_absorbs_submissions(grade: Grade) -> None:
    assert merge_submission(_lead(grade=grade), _submission()).action is MergeAction.TOUCH


@pytest.mark.parametrize("grade", [Grade.D, Grade.F])
def test_closed_lead_starts_a_new_one(grade: Grade) -> None:
    assert merge_submission(_lead(grade=grade), _submission()).action is MergeAction.CREATE


def test_lead_of_another_person_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="does not match"):
        merge_submission(_lead(phone_e164="+8613900139000"), _submission())
    with pytest.raises(ValueError, match="does not match"):
        merge_submission(_lead(dealer_id="other"), _submission())


def test_submission_after_declined_invitation_is_reengagement() -> None:
    declined = _lead(invitation_declined_at=T0 - timedelta(days=3))
    assert merge_submission(declined, _submission()).reengaged
    # already re-engaged after the decline: nothing new to lift
    reengaged = replace(declined, reengaged_at=T0 - timedelta(days=1))
    assert not merge_submission(reengaged, _submission()).reengaged
    # a submission older than the decline (late delivery by a vendor) does not count
    assert not merge_submission(declined, _submission(received_at=T0 - timedelta(days=4))).reengaged


def test_referral_submission_upgrades_a_plain_lead() -> None:
    referrer = uuid4()
    referral = _submission(source=LeadSource.REFERRAL, referred_by_customer_id=referrer)
    assert merge_submission(_lead(), referral).became_referral
    already = _lead(source=LeadSource.REFERRAL, referred_by_customer_id=referrer)
    assert not merge_submission(already, referral).became_referral
    # "referral" without a known referring customer is not a customer referral
    anonymous = _submission(source=LeadSource.REFERRAL)
    assert not merge_submission(_lead(), anonymous).became_referral
