"""A dealer's own complaints policy overrides (``/v1/dealers/{dealer_id}/policy``): read
them with the policy in effect, or replace them (refused when they make no valid policy
over the service-wide overrides: see `dealerflow.complaints.dealer_configuration`)."""

from __future__ import annotations

from typing import Any

from dealerflow.complaints import repository
from dealerflow.complaints.records import DealerPolicyRecord
from dealerflow.complaints.usecases import Uc


async def dealer_policy(uc: Uc, dealer_id: str) -> DealerPolicyRecord:
    """The dealer's stored overrides and its effective policy."""
    overrides = await repository.dealer_overrides(uc.conn, dealer_id) or {}
    return DealerPolicyRecord(dealer_id, overrides, await uc.policy(dealer_id))


async def set_dealer_policy(
    uc: Uc, dealer_id: str, overrides: dict[str, Any]
) -> DealerPolicyRecord:
    """Replace the dealer's overrides (clocks started afterwards follow them). The policy
    is loaded back through the dealer configuration in this transaction, so overrides it
    refuses (`PolicyInvalid`) roll the change back."""
    await repository.put_dealer_overrides(uc.conn, dealer_id, overrides)
    return DealerPolicyRecord(dealer_id, overrides, await uc.policy(dealer_id))
