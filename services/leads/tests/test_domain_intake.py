"""Pure mapping of inbound submissions onto lead data (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, LeadSource, PurchaseHorizon
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.contracts.inbound import LeadSubmission
from dealerflow.leads.domain import LeadRejected
from dealerflow.leads.domain_intake import (
    contact_from_submission,
    interest_from_submission,
    merge_touch,
    primary_phone,
    purchase_horizon,
    submission_facts,
)

TODAY = date(2026, 3, 2)
UNNAMED = "客户"


def submission(**customer: Any) -> LeadSubmission:
    data: dict[str, Any] = {
        "dealer_id": "d1",
        "customer": {"phones": ["13800138000"], **customer},
        "vehicles": [
            {"make": "BYD", "model": "Seal"},
            {"make": "BYD"},
            {"model": "seal"},
            {"interest": "trade-in", "make": "VW", "model": "Lavida", "year": 2016},
        ],
    }
    return LeadSubmission.model_validate(data)


def test_primary_phone_is_the_first_valid_number() -> None:
    sub = LeadSubmission.model_validate(
        {"customer": {"phones": ["12", "139 1234 5678", "13800138000"]}}
    )
    assert primary_phone(sub) == "+8613912345678"


def test_a_submission_without_a_valid_phone_is_refused_naming_the_bad_numbers() -> None:
    sub = LeadSubmission.model_validate(
        {"customer": {"phones": ["12345"], "email": "a@example.cn"}}
    )
    with pytest.raises(LeadRejected, match=r"valid phone number.*12345"):
        primary_phone(sub)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (None, PurchaseHorizon.UNKNOWN),
        (date(2026, 3, 9), PurchaseHorizon.WITHIN_7_DAYS),
        (date(2026, 3, 10), PurchaseHorizon.WITHIN_15_DAYS),
        (date(2026, 4, 1), PurchaseHorizon.WITHIN_30_DAYS),
        (date(2026, 5, 31), PurchaseHorizon.WITHIN_90_DAYS),
        (date(2026, 6, 1), PurchaseHorizon.LATER),
    ],
)
def test_purchase_by_date_maps_to_a_horizon(by: date | None, expected: PurchaseHorizon) -> None:
    assert purchase_horizon(by, TODAY) is expected


def test_interest_lists_each_model_once_and_the_trade_in_as_current_vehicle() -> None:
    interest = interest_from_submission(submission(comments="call after 6pm"), TODAY)
    assert interest.models == ["Seal", "BYD"]  # "seal" is the same model
    assert interest.current_vehicle == "VW Lavida 2016"
    assert interest.notes == "call after 6pm"


def test_contact_snapshot_defaults() -> None:
    contact = contact_from_submission(submission(), UNNAMED)
    assert contact.name == UNNAMED
    assert contact.phone == "+8613800138000"
    assert contact.preferred_channel is ContactChannel.PHONE
    assert contact.consent.service is True
    assert contact.consent.marketing is False
    named = contact_from_submission(
        submission(name="李雷", marketing_consent=True, preferred_contact="wechat"), UNNAMED
    )
    assert (named.name, named.consent.marketing) == ("李雷", True)
    assert named.preferred_channel is ContactChannel.WECHAT


def test_facts_for_deduplication() -> None:
    referrer = uuid.uuid4()
    sub = LeadSubmission.model_validate(
        {
            "source": "referral",
            "referrer_customer_id": str(referrer),
            "customer": {"phones": ["+86 138 0013 8000"]},
            "vehicles": [{"model": "Seal"}],
        }
    )
    facts = submission_facts(sub, "d1", datetime(2026, 3, 2, tzinfo=UTC))
    assert facts.phone == "+8613800138000"
    assert facts.source is LeadSource.REFERRAL
    assert facts.referred_by_customer_id == referrer
    assert facts.models_of_interest == ("Seal",)


def _contact(**kw: Any) -> ContactSnapshot:
    return ContactSnapshot(
        name=kw.pop("name", UNNAMED),
        phone="+8613800138000",
        consent=ConsentSnapshot(service=True, marketing=kw.pop("marketing", False)),
        **kw,
    )


def test_a_touch_fills_gaps_and_never_blanks_known_data() -> None:
    current_contact = _contact(email="old@example.cn")
    current_interest = LeadInterest(models=["Seal"], purchase_horizon=PurchaseHorizon.UNKNOWN)
    submitted_contact = _contact(name="王芳", email="new@example.cn")
    submitted_interest = LeadInterest(
        models=["Seal", "Han"],
        current_vehicle="VW Lavida",
        purchase_horizon=PurchaseHorizon.WITHIN_30_DAYS,
    )
    merged = merge_touch(
        current_contact,
        current_interest,
        submitted_contact,
        submitted_interest,
        ["Han"],
        UNNAMED,
        None,
    )
    assert merged.contact.name == "王芳"  # replaces the placeholder only
    assert merged.contact.email == "old@example.cn"  # known e-mail kept
    assert merged.interest.models == ["Seal", "Han"]
    assert merged.interest.current_vehicle == "VW Lavida"
    assert merged.interest.purchase_horizon is PurchaseHorizon.WITHIN_30_DAYS
    assert set(merged.changed_fields) == {
        "contact.name",
        "interest.models",
        "interest.current_vehicle",
        "interest.purchase_horizon",
    }


def test_a_touch_with_nothing_new_changes_nothing_but_an_explicit_consent_answer() -> None:
    contact = _contact(name="王芳", marketing=True)
    interest = LeadInterest(models=["Seal"])
    same = merge_touch(contact, interest, contact, interest, [], UNNAMED, None)
    assert same.changed_fields == ()
    assert same.contact is contact
    revoked = merge_touch(contact, interest, contact, interest, [], UNNAMED, False)
    assert revoked.changed_fields == ("contact.consent",)
    assert revoked.contact.consent.marketing is False
