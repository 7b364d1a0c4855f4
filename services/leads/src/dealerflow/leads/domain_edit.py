"""Editing a lead's interest (``PATCH /v1/leads/{id}``): a JSON merge patch of the
interest fields (models, vehicle type, budget, use, current vehicle, purchase horizon,
notes) onto the lead's interest, and which fields it changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealerflow.contracts.events.leads import LeadInterest

#: The fields a PATCH may change; null clears one (models -> [], horizon -> unknown).
EDITABLE = tuple(LeadInterest.model_fields)


def edit_interest(
    current: LeadInterest, patch: Mapping[str, Any]
) -> tuple[LeadInterest, list[str]]:
    """``current`` with ``patch`` applied (a field given as None is cleared to its
    default), and the names of the fields that really changed (``interest.<field>``).
    Raises ``ValueError`` for a field that is not editable; the result is validated as a
    ``LeadInterest`` (pydantic's ``ValidationError`` is a ``ValueError``)."""
    unknown = sorted(set(patch) - set(EDITABLE))
    if unknown:
        raise ValueError(f"not editable: {', '.join(unknown)}")
    data = current.model_dump()
    for name, value in patch.items():
        if value is None:
            default = LeadInterest.model_fields[name].get_default(call_default_factory=True)
            data[name] = default
        else:
            data[name] = value
    edited = LeadInterest.model_validate(data)
    changed = [
        f"interest.{name}" for name in EDITABLE if getattr(edited, name) != getattr(current, name)
    ]
    return edited, changed
