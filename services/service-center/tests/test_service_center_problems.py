"""The PROBLEMS map: each domain exception is answered by its own (or nearest) problem."""

from __future__ import annotations

import uuid

import pytest

from dealerflow.runtime.problems import Problem
from dealerflow.service_center.domain import (
    BrokenRule,
    DecisionError,
    DecisionIncomplete,
    OdometerWentBack,
    RepairQuoteError,
)
from dealerflow.service_center.problems import PROBLEMS
from dealerflow.service_center.usecases import InvalidPhone, RepairOrderNotFound


def answer(exc: Exception) -> Problem:
    """The problem the runtime answers ``exc`` with (the nearest mapped class)."""
    spec = next(PROBLEMS[cls] for cls in type(exc).__mro__ if cls in PROBLEMS)
    return spec.problem(exc)


@pytest.mark.parametrize(
    ("exc", "slug", "title"),
    [
        (RepairQuoteError("x"), "invalid-repair-quote", "Quote refused"),
        (DecisionError("x"), "invalid-decision", "Decision refused"),
        (DecisionIncomplete("x"), "invalid-decision", "Decision incomplete"),
        (OdometerWentBack("x"), "validation-error", "Odometer went back"),
        (InvalidPhone("x"), "invalid-phone", "Invalid phone number"),
    ],
)
def test_broken_rules_are_422_with_their_errors(exc: BrokenRule, slug: str, title: str) -> None:
    body = answer(exc).to_body()
    assert body == {
        "type": f"https://dealerflow.dev/problems/{slug}",
        "title": title,
        "status": 422,
        "detail": "x",
        "errors": ["x"],
    }


def test_not_found_names_the_repair_order() -> None:
    ro_id = uuid.uuid4()
    problem = answer(RepairOrderNotFound(ro_id))
    assert (problem.status, problem.title) == (404, "Repair order not found")
    assert problem.detail == f"No repair order with id {ro_id}"
