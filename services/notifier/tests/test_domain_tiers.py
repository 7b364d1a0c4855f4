"""Customer tiers from purchases, service spend in the window and converted referrals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose, CustomerTier, ServiceTier
from dealerflow.notifier.domain_tiers import (
    ServiceSpend,
    TierFacts,
    courtesy_call,
    maintenance_call,
    tier_changed,
    tier_of,
)
from dealerflow.notifier.domain_types import PlannedReminder, PlannedTask, RecordRef, StaffRole
from dealerflow.policy import CustomerTierPolicy

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
POLICY = CustomerTierPolicy()


def _paid(amount: str, days_ago: int, currency: str = "CNY") -> ServiceSpend:
    return ServiceSpend(AT - timedelta(days=days_ago), Decimal(amount), currency)


def _facts(purchases: int = 0, referrals: int = 0, *spend: ServiceSpend) -> TierFacts:
    return TierFacts(purchases, referrals, spend)


def test_the_defaults_are_documented_numbers() -> None:
    assert POLICY.service_spend_window == timedelta(days=365)
    assert (POLICY.vip_min_purchases, POLICY.vip_min_referrals) == (2, 2)
    assert POLICY.vip_min_service_spend == Decimal("20000")
    assert POLICY.key_min_service_spend == Decimal("3000")


def test_nothing_done_is_regular_with_nothing_to_review() -> None:
    standing = tier_of(_facts(), POLICY, AT)
    assert standing.tier is CustomerTier.REGULAR
    assert (standing.purchases, standing.referrals, standing.service_spend) == (0, 0, 0)
    assert standing.review_at is None


def test_any_vip_threshold_makes_a_vip() -> None:
    assert tier_of(_facts(2), POLICY, AT).tier is CustomerTier.VIP
    assert tier_of(_facts(0, 2), POLICY, AT).tier is CustomerTier.VIP
    big_spender = _facts(0, 0, _paid("12000", 200), _paid("8000", 10))
    assert tier_of(big_spender, POLICY, AT).tier is CustomerTier.VIP


def test_key_is_a_purchase_with_spend_or_a_referral() -> None:
    assert tier_of(_facts(1), POLICY, AT).tier is CustomerTier.REGULAR
    assert tier_of(_facts(1, 0, _paid("3000", 30)), POLICY, AT).tier is CustomerTier.KEY
    assert tier_of(_facts(1, 1), POLICY, AT).tier is CustomerTier.KEY
    # spend or a referral without a purchase is not enough below the VIP thresholds
    assert tier_of(_facts(0, 1, _paid("5000", 30)), POLICY, AT).tier is CustomerTier.REGULAR


def test_spend_slides_out_of_the_window_and_says_when() -> None:
    facts = _facts(1, 0, _paid("2000", 400), _paid("3500", 300), _paid("500", 20))
    standing = tier_of(facts, POLICY, AT)
    assert standing.service_spend == Decimal("4000")  # the 400-day-old visit is out
    assert standing.tier is CustomerTier.KEY
    assert standing.review_at == AT + timedelta(days=65)  # the 300-day-old one leaves then
    later = tier_of(facts, POLICY, standing.review_at)
    assert later.service_spend == Decimal("500")
    assert later.tier is CustomerTier.REGULAR
    assert later.review_at == AT + timedelta(days=345)


def test_spend_in_another_currency_does_not_count() -> None:
    standing = tier_of(_facts(1, 0, _paid("9000", 5, "USD")), POLICY, AT)
    assert (standing.tier, standing.service_spend) == (CustomerTier.REGULAR, 0)
    assert standing.review_at is None


def test_the_dealer_sets_the_thresholds() -> None:
    strict = CustomerTierPolicy(vip_min_purchases=3, key_min_service_spend=Decimal("10000"))
    assert tier_of(_facts(2), strict, AT).tier is CustomerTier.REGULAR
    assert tier_of(_facts(1, 0, _paid("5000", 1)), strict, AT).tier is CustomerTier.REGULAR


def test_the_first_tier_above_regular_is_news_a_first_regular_is_not() -> None:
    vip = tier_of(_facts(2), POLICY, AT)
    regular = tier_of(_facts(), POLICY, AT)
    assert tier_changed(None, vip)
    assert not tier_changed(None, regular)
    assert not tier_changed(CustomerTier.VIP, vip)
    assert tier_changed(CustomerTier.KEY, vip)
    assert tier_changed(CustomerTier.KEY, regular)


def test_only_a_vip_gets_the_managers_courtesy_call() -> None:
    callback = PlannedTask(
        key="delivery:DLV-1:callback-24h",
        kind=TaskKind.DELIVERY_CALLBACK,
        dealer_id="D001",
        customer_id=uuid.uuid4(),
        due_at=AT,
        assignee_role=StaffRole.CONSULTANT,
        assignee_id="c-li-na",
        related=RecordRef(RecordKind.DELIVERY, "DLV-1"),
        script="Delivery callback.",
    )
    manager = StaffRole.SALES_MANAGER
    courtesy = courtesy_call(callback, CustomerTier.VIP, POLICY, manager)
    assert courtesy is not None
    assert (courtesy.key, courtesy.assignee_role, courtesy.assignee_id) == (
        "delivery:DLV-1:callback-24h:courtesy",
        manager,
        None,
    )
    assert (courtesy.kind, courtesy.due_at, courtesy.related) == (
        callback.kind,
        callback.due_at,
        callback.related,
    )
    for tier in (CustomerTier.KEY, CustomerTier.REGULAR, None):
        assert courtesy_call(callback, tier, POLICY, manager) is None
    none_given = CustomerTierPolicy(vip_manager_courtesy_calls=False)
    assert courtesy_call(callback, CustomerTier.VIP, none_given, manager) is None


def test_a_tier_d_maintenance_reminder_comes_with_the_advisors_call() -> None:
    reminder = PlannedReminder(
        key="vehicle:VIN1:maintenance-due:2025-03-17",
        kind=ReminderKind.MAINTENANCE_DUE,
        dealer_id="D001",
        customer_id=uuid.uuid4(),
        send_at=AT,
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.CUSTOMER, "c-1"),
    )
    call = maintenance_call(reminder, ServiceTier.D, POLICY)
    assert call is not None
    assert (call.key, call.kind, call.due_at, call.assignee_role, call.assignee_id) == (
        "vehicle:VIN1:maintenance-due:2025-03-17:call",
        TaskKind.RETENTION_CALL,
        AT,
        StaffRole.ADVISOR,
        None,
    )
    for tier in (ServiceTier.A, ServiceTier.B, ServiceTier.C, None):
        assert maintenance_call(reminder, tier, POLICY) is None
    c_too = CustomerTierPolicy(maintenance_call_service_tiers=("C", "D"))
    assert maintenance_call(reminder, ServiceTier.C, c_too) is not None
    assert (
        maintenance_call(
            reminder, ServiceTier.D, CustomerTierPolicy(maintenance_call_service_tiers=())
        )
        is None
    )
