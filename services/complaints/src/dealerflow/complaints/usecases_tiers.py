"""Customer tiers: complaints keeps each customer's tier from the notifier's
CustomerTierChanged; a complaint opened afterwards takes it (`usecases.open_complaint`)
and gets the tier's shorter clocks (`domain_clocks`). Complaints already open keep the
clocks they were opened with."""

from __future__ import annotations

from dealerflow.complaints import repository_tiers
from dealerflow.complaints.usecases import Uc
from dealerflow.contracts.events.notifier import CustomerTierChanged


async def on_tier_changed(uc: Uc, event: CustomerTierChanged) -> bool:
    """Remember the customer's new tier (a change older than the stored one is ignored);
    True when stored."""
    return await repository_tiers.record_tier(
        uc.conn,
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        tier=event.tier.value,
        changed_at=event.changed_at,
    )
