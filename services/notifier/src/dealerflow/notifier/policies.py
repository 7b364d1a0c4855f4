"""A dealer's effective policy: DealerPolicy defaults <- service-wide overrides (env)
<- the dealer's stored overrides (dealer_policy table, PUT /v1/dealers/{id}/policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealerflow.policy import DealerPolicy, policy_with_overrides

__all__ = ["deep_merge", "effective_policy"]


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` merged into ``base`` key by key (nested mappings merge, others replace)."""
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def effective_policy(
    service_overrides: Mapping[str, Any] | None, dealer_overrides: Mapping[str, Any] | None
) -> DealerPolicy:
    """The dealer's policy; raises pydantic.ValidationError on unknown keys or bad values."""
    return policy_with_overrides(deep_merge(service_overrides or {}, dealer_overrides or {}))
