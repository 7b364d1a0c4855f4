"""Per-dealer policy: DealerPolicy defaults < env overrides (all dealers) < the dealer's
stored overrides (``PUT /v1/dealers/{dealer_id}/policy``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealerflow.complaints import repository
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.care_enums import EscalationRole
from dealerflow.policy import DealerPolicy, merge_overrides, policy_with_overrides
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


async def policy_for(
    conn: DbConnection, dealer_id: str, settings: ComplaintsSettings
) -> DealerPolicy:
    """The effective policy of ``dealer_id``."""
    stored = await repository.dealer_overrides(conn, dealer_id)
    return build_policy(settings.policy_overrides, stored or {})
