"""Unit tests of editing a lead's interest (a merge patch of its fields)."""

from __future__ import annotations

import pytest

from dealerflow.contracts.enums import PurchaseHorizon
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.leads.domain_edit import edit_interest

CURRENT = LeadInterest(models=["Seal"], purchase_horizon=PurchaseHorizon.WITHIN_30_DAYS)


def test_given_fields_change_and_are_named() -> None:
    patch = {"budget_max": {"amount": "250000.00", "currency": "CNY"}, "notes": "wants white"}
    edited, changed = edit_interest(CURRENT, patch)
    assert changed == ["interest.budget_max", "interest.notes"]
    assert edited.models == ["Seal"]
    assert str(edited.budget_max.amount) == "250000.00"  # type: ignore[union-attr]


def test_null_clears_to_the_default_and_same_values_change_nothing() -> None:
    edited, changed = edit_interest(CURRENT, {"models": None, "purchase_horizon": None})
    assert (edited.models, edited.purchase_horizon) == ([], PurchaseHorizon.UNKNOWN)
    assert changed == ["interest.models", "interest.purchase_horizon"]
    same, nothing = edit_interest(CURRENT, {"models": ["Seal"]})
    assert (same, nothing) == (CURRENT, [])


def test_unknown_fields_and_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="not editable: colour"):
        edit_interest(CURRENT, {"colour": "red"})
    with pytest.raises(ValueError, match="purchase_horizon"):
        edit_interest(CURRENT, {"purchase_horizon": "tomorrow"})
