"""Holiday greetings and referral invitations: the pure rules (domain_greetings)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from dealerflow.contracts.care_enums import ReminderKind, SurveyKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_greetings import (
    delivery_of_satisfied_callback,
    delivery_of_satisfied_survey,
    greeting_timer_key,
    next_greeting,
    plan_greeting,
    plan_referral_invitation,
)
from dealerflow.notifier.domain_templates import render_message
from dealerflow.policy import DealerPolicy

CUSTOMER = uuid.UUID("00000000-0000-0000-0000-000000000001")


def test_the_defaults_are_the_2027_holidays() -> None:
    dates = [g.on for g in DealerPolicy().owner_care.greetings]
    assert dates == [date(2027, 2, 6), date(2027, 9, 15), date(2027, 10, 1)]


def test_the_next_greeting_is_planned_the_day_before_at_10_local() -> None:
    now = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    nxt = next_greeting(DealerPolicy(), now, None)
    assert nxt is not None
    assert (nxt.name_en, nxt.on) == ("Spring Festival", date(2027, 2, 6))
    assert nxt.fire_at == datetime(2027, 2, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_after_a_greeting_the_following_one_comes_and_the_list_ends() -> None:
    policy = DealerPolicy()
    fired = datetime(2027, 2, 5, 2, 0, tzinfo=UTC)
    nxt = next_greeting(policy, fired, after=date(2027, 2, 6))
    assert nxt is not None
    assert nxt.on == date(2027, 9, 15)
    assert next_greeting(policy, fired, after=date(2027, 10, 1)) is None


def test_a_greeting_whose_eve_passed_goes_out_now() -> None:
    now = datetime(2027, 2, 5, 8, 0, tzinfo=UTC)  # the eve, 16:00 local
    nxt = next_greeting(DealerPolicy(), now, None)
    assert nxt is not None
    assert (nxt.on, nxt.fire_at) == (date(2027, 2, 6), now)


def test_a_greeting_is_marketing_once_per_owner_and_holiday() -> None:
    at = datetime(2027, 2, 5, 2, 0, tzinfo=UTC)
    planned = plan_greeting("D001", CUSTOMER, "春节", "Spring Festival", date(2027, 2, 6), at)
    assert planned.kind is ReminderKind.HOLIDAY_GREETING
    assert planned.purpose is ConsentPurpose.MARKETING
    assert planned.key == f"customer:{CUSTOMER}:holiday_greeting:2027-02-06"
    assert greeting_timer_key("D001", date(2027, 2, 6)) == "D001:greetings:2027-02-06"
    params = {**planned.params, "customer_name": "Li", "dealer_name": "Acme"}
    assert "春节" in render_message(planned.kind, "zh-CN", params).body
    assert "Spring Festival" in render_message(planned.kind, "en", params).body


def test_the_referral_invitation_follows_the_dealer_s_delay() -> None:
    said = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    planned = plan_referral_invitation("D001", CUSTOMER, "DLV-1", said, DealerPolicy())
    assert planned is not None
    assert (planned.send_at, planned.purpose) == (
        said + timedelta(days=1),
        ConsentPurpose.MARKETING,
    )
    assert planned.key == "delivery:DLV-1:referral_invitation"
    off = DealerPolicy.model_validate({"owner_care": {"referral_invitation_after": None}})
    assert plan_referral_invitation("D001", CUSTOMER, "DLV-1", said, off) is None


DELIVERY = RelatedRecord.model_validate({"kind": "delivery", "id": "DLV-1"})
REPAIR = RelatedRecord.model_validate({"kind": "repair_order", "id": "RO-1"})


def test_a_satisfied_satisfaction_callback_of_a_delivery_invites() -> None:
    sat, ok = TaskKind.SATISFACTION_CALLBACK, TaskOutcome.SATISFIED
    assert delivery_of_satisfied_callback(sat, ok, DELIVERY) == "DLV-1"
    assert delivery_of_satisfied_callback(sat, TaskOutcome.REACHED, DELIVERY) is None
    assert delivery_of_satisfied_callback(TaskKind.DELIVERY_CALLBACK, ok, DELIVERY) is None
    assert delivery_of_satisfied_callback(sat, ok, REPAIR) is None
    assert delivery_of_satisfied_callback(sat, ok, None) is None


def test_a_delivery_survey_of_9_or_more_invites() -> None:
    kind = SurveyKind.DELIVERY_SATISFACTION
    assert delivery_of_satisfied_survey(kind, 9, DELIVERY) == "DLV-1"
    assert delivery_of_satisfied_survey(kind, 10, DELIVERY) == "DLV-1"
    assert delivery_of_satisfied_survey(kind, 8, DELIVERY) is None
    assert delivery_of_satisfied_survey(SurveyKind.SERVICE_SATISFACTION, 10, REPAIR) is None
