"""The care calendar as data (`domain_calendar`): every handled event and every kind is
in a rule, the timing follows the dealer's policy, disabled rules are found by kind and
business key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.consumers import consent_router, router
from dealerflow.notifier.domain import DeliveryFacts, plan_owner_care
from dealerflow.notifier.domain_calendar import (
    CARE_CALENDAR,
    FACT_FEEDERS,
    RULE_KEYS,
    disabled_rule,
    effective_calendar,
    rule,
    rule_of,
    triggered_by,
    turned_off,
    unknown_disabled,
)
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.policy import policy_with_overrides

#: Kinds no planner makes yet (the inspections slice of issue 14 plans them).
NOT_PLANNED_YET: set[ReminderKind] = set()


def test_every_handled_event_is_in_a_rule_or_a_named_fact_feeder() -> None:
    named = {cls.__name__ for r in CARE_CALENDAR for cls in (*r.triggers, *r.cancels, *r.moved_by)}
    handled = {c.__name__ for c in router.event_classes() | consent_router.event_classes()}
    assert handled - named == FACT_FEEDERS
    assert handled >= FACT_FEEDERS  # no stale feeder names


def test_every_task_and_reminder_kind_is_made_by_a_rule() -> None:
    made = {r.makes for r in CARE_CALENDAR}
    assert set(TaskKind) - made == set()
    assert set(ReminderKind) - made == NOT_PLANNED_YET


def test_rule_keys_are_unique_and_valid_policy_keys() -> None:
    assert len(RULE_KEYS) == len(CARE_CALENDAR)
    policy_with_overrides({"care": {"disabled": sorted(RULE_KEYS)}})  # the shape validates


def test_reminder_rules_name_a_purpose_and_timing_resolves_for_every_rule() -> None:
    default = effective_calendar(policy_with_overrides())
    for r in CARE_CALENDAR:
        assert (r.purpose is not None) == isinstance(r.makes, ReminderKind), r.key
    for e in default:
        assert "{" not in e.timing.text, e.rule.key
        assert set(e.timing.numbers) == set(e.rule.policy_keys)


def test_timing_shows_the_dealers_numbers_and_the_keys_changing_them() -> None:
    policy = policy_with_overrides({"owner_care": {"callback_after_delivery": "PT48H"}})
    timing = rule("delivery-callback").timing(policy)
    assert timing.numbers["owner_care.callback_after_delivery"] == "2 d"
    assert timing.text.startswith("2 d after the delivery")
    assert rule("delivery-callback").timing(policy_with_overrides()).text.startswith("24 h")


def test_enabled_flag_follows_care_disabled_and_unknown_keys_are_listed() -> None:
    policy = policy_with_overrides({"care": {"disabled": ["delivery-callback", "no-such-rule"]}})
    enabled = {e.rule.key: e.enabled for e in effective_calendar(policy)}
    assert enabled["delivery-callback"] is False
    assert enabled["delivery-satisfaction-callback"] is True
    assert unknown_disabled(policy) == ["no-such-rule"]


def _delivery() -> DeliveryFacts:
    return DeliveryFacts(
        dealer_id="d1",
        customer_id=uuid4(),
        delivery_id="dl-1",
        delivered_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        consultant_id="c-1",
    )


def test_planned_items_find_their_rule_by_kind_and_key() -> None:
    planned = plan_owner_care(_delivery(), policy_with_overrides())
    keys = [rule_of(p.kind, p.key).key for p in planned]  # type: ignore[union-attr]
    assert keys == ["delivery-callback", "delivery-satisfaction-callback", "insurance-renewal"]
    # same kind, two rules: the key pattern decides
    assert rule_of(TaskKind.RETENTION_CALL, "retention-call:VIN:at_risk:never").key == (
        "retention-call"
    )
    maintenance = "vehicle:VIN:maintenance-due:2026-05-01:call"
    assert rule_of(TaskKind.RETENTION_CALL, maintenance).key == "maintenance-call"  # type: ignore[union-attr]
    # a retry of the callback keeps to its rule
    retry = "delivery:dl-1:callback-24h:attempt-2"
    assert rule_of(TaskKind.DELIVERY_CALLBACK, retry).key == "delivery-callback"  # type: ignore[union-attr]


def test_staff_own_tasks_and_alerts_cannot_be_turned_off() -> None:
    policy = policy_with_overrides({"care": {"disabled": ["manual-task", "delivery-callback"]}})
    assert unknown_disabled(policy) == ["manual-task"]
    assert turned_off(policy) == {"delivery-callback"}
    enabled = {e.rule.key: e.enabled for e in effective_calendar(policy)}
    assert enabled["manual-task"] is True
    assert {r.key for r in CARE_CALENDAR if not r.can_turn_off} == {
        "manual-task",
        "complaint-breach-alert",
        "lead-breach-reassignment-alert",
    }


def test_disabled_rule_only_for_the_dealers_disabled_keys() -> None:
    callback, satisfaction, _ = plan_owner_care(_delivery(), policy_with_overrides())
    off = policy_with_overrides({"care": {"disabled": ["delivery-callback"]}})
    assert disabled_rule(callback, off) == rule("delivery-callback")  # type: ignore[arg-type]
    assert disabled_rule(satisfaction, off) is None  # type: ignore[arg-type]
    assert disabled_rule(callback, policy_with_overrides()) is None  # type: ignore[arg-type]


def test_triggered_by_lists_the_rules_of_an_event_type() -> None:
    keys = {r.key for r in triggered_by("VehicleDelivered")}
    assert {"delivery-callback", "delivery-satisfaction-callback", "delivery-survey"} <= keys
    assert triggered_by("NoSuchEvent") == []


@pytest.mark.parametrize("kind", [ReminderKind.HOLIDAY_GREETING, ReminderKind.THANK_YOU])
def test_reminders_without_a_pattern_match_any_key(kind: ReminderKind) -> None:
    reminder = PlannedReminder(
        key="anything",
        kind=kind,
        dealer_id="d1",
        customer_id=uuid4(),
        send_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=1),
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, "x"),
    )
    assert rule_of(reminder.kind, reminder.key) is not None
