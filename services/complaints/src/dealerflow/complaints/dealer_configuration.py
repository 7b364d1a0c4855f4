"""Each dealer's complaints policy: DealerPolicy defaults < the service-wide overrides of
the settings (``DEALERFLOW_COMPLAINTS_POLICY_OVERRIDES``, all dealers) < the dealer's
stored overrides (``PUT /v1/dealers/{dealer_id}/policy``), with the escalation ladder
checked. Use cases reach it through ``uc.policy(dealer_id)`` only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dealerflow.complaints import repository
from dealerflow.contracts.care_enums import EscalationRole
from dealerflow.policy import DealerPolicy, DealerSettings, merge_overrides, policy_with_overrides
from dealerflow.runtime.db import DbConnection

# ComplaintEscalated.to_role must match its level (contracts): level n -> _LADDER[n - 1].
_CONTRACT_LADDER = tuple(role.value for role in EscalationRole)


class PolicyInvalid(ValueError):
    """Overrides that do not make a valid complaints policy."""


def build_policy(*layers: Mapping[str, Any]) -> DealerPolicy:
    """The policy of the merged ``layers`` (later wins); raises `PolicyInvalid`."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge_overrides(merged, layer)
    try:
        policy = policy_with_overrides(merged)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise PolicyInvalid(str(exc)) from exc
    check_ladder(policy)
    return policy


def check_ladder(policy: DealerPolicy) -> None:
    """The escalation ladder above the handler must follow the published rungs
    (department manager, GM, OEM/region), possibly cut short: consumers rely on the
    level -> role mapping of ComplaintEscalated."""
    ladder = policy.complaints.escalation_ladder[1:]
    if tuple(ladder) != _CONTRACT_LADDER[: len(ladder)]:
        raise PolicyInvalid(
            f"complaints.escalation_ladder above the handler must be a prefix of "
            f"{list(_CONTRACT_LADDER)}, got {ladder}"
        )


@dataclass(frozen=True)
class StoredDealerConfiguration:
    """The complaints service's `DealerConfiguration`: the dealer's stored overrides over
    the service-wide ``overrides`` (validated at start-up: a bad one fails the service)."""

    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        build_policy(self.overrides)

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The dealer's configuration: its stored policy, default profile and people."""
        return DealerSettings(policy=await self.policy(conn, dealer_id))

    async def policy(self, conn: DbConnection, dealer_id: str) -> DealerPolicy:
        """The effective policy of ``dealer_id`` (`PolicyInvalid` if its overrides make none)."""
        stored = await repository.dealer_overrides(conn, dealer_id)
        return build_policy(self.overrides, stored or {})
