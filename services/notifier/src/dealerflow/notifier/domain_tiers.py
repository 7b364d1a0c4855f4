"""Customer tiers (VIP / key / regular, issue 13): computed from what the customer did at
the dealer (DOMAIN.md section 5: "by purchase, service spend and referrals"). Pure rules,
no I/O; the thresholds are the dealer's `CustomerTierPolicy`.

- a purchase is a delivered vehicle (VehicleDelivered), counted for life;
- service spend is what a repair order's handover settled (VehicleHandedOver.amount_paid,
  in the policy's currency), counted over a sliding window;
- a referral is a lead naming the customer as its referrer (LeadCreated), counted for
  life once the referred lead converts (LeadConverted: the referred customer bought).

VIP when any VIP threshold is reached; key when a purchase comes with enough spend or a
referral; regular otherwise. Spend leaving the window can lower the tier, so a standing
says when to look again (`TierStanding.review_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from dealerflow.contracts.care_enums import TaskKind
from dealerflow.contracts.enums import CustomerTier, ServiceTier
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import PlannedReminder, PlannedTask, StaffRole
from dealerflow.policy import CustomerTierPolicy


@dataclass(frozen=True, slots=True)
class PurchaseFacts:
    """What the tier rules need of VehicleDelivered."""

    dealer_id: str
    customer_id: UUID
    delivery_id: str
    delivered_at: datetime


@dataclass(frozen=True, slots=True)
class ServicePaidFacts:
    """What the tier rules need of VehicleHandedOver (``amount`` None: nothing settled)."""

    dealer_id: str
    customer_id: UUID
    repair_order_id: str
    handed_over_at: datetime
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """A lead naming an existing customer (``referrer_id``) as its referrer (LeadCreated)."""

    dealer_id: str
    referrer_id: UUID
    referred_customer_id: UUID
    lead_id: str


@dataclass(frozen=True, slots=True)
class ConversionFacts:
    """A lead converted (LeadConverted): a referral of it counts from ``converted_at``."""

    dealer_id: str
    lead_id: str
    converted_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceSpend:
    """One settled handover: when it was paid and how much."""

    paid_at: datetime
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class TierFacts:
    """What counts for a customer's tier at one dealer."""

    purchases: int
    converted_referrals: int
    spend: Sequence[ServiceSpend]


@dataclass(frozen=True, slots=True)
class TierStanding:
    """A customer's tier at ``at`` and its basis; ``review_at``: when spend now counted
    drops out of the window (None when none counts)."""

    tier: CustomerTier
    purchases: int
    referrals: int
    service_spend: Decimal
    review_at: datetime | None


def tier_of(facts: TierFacts, policy: CustomerTierPolicy, at: datetime) -> TierStanding:
    """The customer's tier at ``at`` under the dealer's tier rules."""
    since = at - policy.service_spend_window
    counted = [s for s in facts.spend if s.currency == policy.spend_currency and s.paid_at > since]
    spend = sum((s.amount for s in counted), Decimal("0"))
    review_at = min(s.paid_at for s in counted) + policy.service_spend_window if counted else None
    purchases, referrals = facts.purchases, facts.converted_referrals
    if (
        purchases >= policy.vip_min_purchases
        or spend >= policy.vip_min_service_spend
        or referrals >= policy.vip_min_referrals
    ):
        tier = CustomerTier.VIP
    elif purchases >= policy.key_min_purchases and (
        spend >= policy.key_min_service_spend or referrals >= policy.key_min_referrals
    ):
        tier = CustomerTier.KEY
    else:
        tier = CustomerTier.REGULAR
    return TierStanding(tier, purchases, referrals, spend, review_at)


def tier_changed(known: CustomerTier | None, standing: TierStanding) -> bool:
    """Is ``standing`` news? A customer never tiered (``known`` None) counts as regular, so
    the first tier above regular is a change and a first "regular" is not."""
    return standing.tier != (known or CustomerTier.REGULAR)


#: Timer kind of a customer's tier review when counted spend leaves the window.
TIER_REVIEW = "notifier.tier_review"


def tier_review_key(dealer_id: str, customer_id: UUID) -> str:
    """Business key of the customer's pending tier review (one at a time)."""
    return f"{TIER_REVIEW}:{dealer_id}:{customer_id}"


def courtesy_call(
    callback: PlannedTask,
    tier: CustomerTier | None,
    policy: CustomerTierPolicy,
    manager: StaffRole,
) -> PlannedTask | None:
    """A VIP's care callback also given to ``manager`` as a courtesy call task (same due
    time and record); None for other tiers or when the dealer gives none
    (``vip_manager_courtesy_calls``)."""
    if tier is not CustomerTier.VIP or not policy.vip_manager_courtesy_calls:
        return None
    return replace(
        callback,
        key=f"{callback.key}:courtesy",
        assignee_role=manager,
        assignee_id=None,
        **staff_text("satisfaction_callback.vip", script=callback.script),
    )


def maintenance_call(
    reminder: PlannedReminder, service_tier: ServiceTier | None, policy: CustomerTierPolicy
) -> PlannedTask | None:
    """The service advisors' call task beside a maintenance reminder for a customer of an
    after-sales tier in ``maintenance_call_service_tiers`` (default D), due when the
    reminder is sent; None for other tiers or a customer without one."""
    if service_tier is None or service_tier.value not in policy.maintenance_call_service_tiers:
        return None
    return PlannedTask(
        key=f"{reminder.key}:call",
        kind=TaskKind.RETENTION_CALL,
        dealer_id=reminder.dealer_id,
        customer_id=reminder.customer_id,
        due_at=reminder.send_at,
        assignee_role=StaffRole.ADVISOR,
        assignee_id=None,
        related=reminder.related,
        **staff_text("service_callback.tier_maintenance", tier=service_tier.value),
    )
