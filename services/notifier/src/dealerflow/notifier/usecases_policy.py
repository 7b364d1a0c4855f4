"""A dealer's policy overrides as staff see and replace them (``/v1/dealers/{id}/policy``).

The effective policy shown is the one every use case gets from ``uc.policy(dealer_id)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dealerflow.notifier import repository as repo
from dealerflow.notifier.dealer_configuration import StoredDealerConfiguration
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


@dataclass(frozen=True)
class DealerPolicySetting:
    """A dealer's stored overrides and the policy in effect with them."""

    dealer_id: str
    overrides: Mapping[str, Any]
    effective: DealerPolicy


@dataclass(frozen=True)
class ReplaceDealerPolicy:
    """Replace a dealer's stored overrides (a partial DealerPolicy)."""

    dealer_id: str
    overrides: Mapping[str, Any]


async def show_dealer_policy(uc: Uc, dealer_id: str) -> DealerPolicySetting:
    """The dealer's stored overrides ({} when none) and its effective policy."""
    overrides = await repo.get_policy_overrides(uc.conn, dealer_id) or {}
    return DealerPolicySetting(dealer_id, overrides, await uc.policy(dealer_id))


async def replace_dealer_policy(uc: Uc, cmd: ReplaceDealerPolicy) -> DealerPolicySetting:
    """Validate and store the overrides; raises InvalidDealerPolicy (nothing stored)."""
    if not isinstance(uc.dealers, StoredDealerConfiguration):
        raise TypeError("dealer policies are stored only with StoredDealerConfiguration")
    uc.dealers.layered(cmd.overrides)
    await repo.put_policy_overrides(uc.conn, cmd.dealer_id, cmd.overrides, uc.now)
    return DealerPolicySetting(cmd.dealer_id, cmd.overrides, await uc.policy(cmd.dealer_id))
