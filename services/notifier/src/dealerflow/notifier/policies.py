"""A dealer's effective policy: DealerPolicy defaults <- service-wide overrides (env)
<- the dealer's stored overrides (dealer_policy table, PUT /v1/dealers/{id}/policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealerflow.policy import DealerPolicy, merge_overrides, policy_with_overrides

__all__ = ["effective_policy"]


def effective_policy(
    service_overrides: Mapping[str, Any] | None, dealer_overrides: Mapping[str, Any] | None
) -> DealerPolicy:
    """The dealer's policy; raises pydantic.ValidationError on unknown keys or bad values."""
    return policy_with_overrides(merge_overrides(service_overrides or {}, dealer_overrides or {}))
