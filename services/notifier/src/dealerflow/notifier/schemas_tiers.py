"""Response body of a customer's tier (GET /v1/customers/{customer_id}/tier)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from dealerflow.contracts.enums import CustomerTier, ServiceTier
from dealerflow.contracts.types import Money
from dealerflow.notifier.usecases_tiers import CustomerTierView


class CustomerTierOut(BaseModel):
    """A customer's tier at the dealer and the facts it rests on, counted now."""

    dealer_id: str
    customer_id: uuid.UUID
    tier: CustomerTier = Field(
        description="The tier last published (CustomerTierChanged); regular for a customer "
        "never tiered."
    )
    changed_at: datetime | None = Field(description="When the tier last changed.")
    purchases: int = Field(description="Vehicles delivered to the customer at this dealer.")
    referrals: int = Field(description="Customers the customer referred who bought.")
    service_spend: Money = Field(
        description="Service spend within the window, in the tier rules' currency."
    )
    spend_window: timedelta = Field(description="How long service spend counts.")
    review_at: datetime | None = Field(
        description="When counted spend next leaves the window and the tier is reviewed."
    )
    service_tier: ServiceTier | None = Field(
        default=None,
        description="The after-sales tier (A-D by visits a year) service-center published "
        "last (ServiceTierChanged); absent before the first.",
    )
    service_tier_changed_at: datetime | None = Field(
        default=None, description="When the after-sales tier last changed."
    )

    @classmethod
    def of(cls, view: CustomerTierView) -> CustomerTierOut:
        standing = view.standing
        return cls(
            dealer_id=view.dealer_id,
            customer_id=view.customer_id,
            tier=view.tier,
            changed_at=view.changed_at,
            purchases=standing.purchases,
            referrals=standing.referrals,
            service_spend=Money(amount=standing.service_spend, currency=view.spend_currency),
            spend_window=view.spend_window,
            review_at=standing.review_at,
            service_tier=view.service_tier,
            service_tier_changed_at=view.service_tier_changed_at,
        )
