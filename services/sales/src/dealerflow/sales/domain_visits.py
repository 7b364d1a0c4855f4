"""The showroom visit register and the needs analysis, as pure rules.

A visit is the customer's first at the dealer unless the register already holds an
earlier one of theirs (reception does not have to know). The duration is whole minutes
from arrival to departure. A needs analysis lists each priority once; a budget is a
positive amount.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import VisitKind
from dealerflow.contracts.events.sales import VisitNeeds

#: How far ahead of the server's clock an arrival may be stamped (clock skew at reception).
ARRIVAL_SKEW = timedelta(minutes=5)
#: The longest a visit is taken to last; a departure later than this is a typing error.
LONGEST_VISIT = timedelta(hours=12)


@dataclass(frozen=True)
class VisitRecord:
    """One row of the visit register (needs None until the analysis is taken)."""

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    lead_id: str | None
    consultant_id: str
    arrived_at: datetime
    party_size: int
    visit_kind: VisitKind
    contact: ContactSnapshot
    created_at: datetime
    left_at: datetime | None = None
    needs: VisitNeeds | None = None

    @property
    def duration_minutes(self) -> int | None:
        return None if self.left_at is None else duration_minutes(self.arrived_at, self.left_at)


def visit_kind(earlier_visits: int) -> VisitKind:
    """First visit when the register holds none of the customer's before, else return."""
    return VisitKind.FIRST if earlier_visits == 0 else VisitKind.RETURN


def duration_minutes(arrived_at: datetime, left_at: datetime) -> int:
    """Whole minutes spent in the showroom (rounded down)."""
    return int((left_at - arrived_at).total_seconds() // 60)


def arrival_problems(arrived_at: datetime, now: datetime) -> list[str]:
    """Why an arrival cannot be registered (empty: it can)."""
    if arrived_at > now + ARRIVAL_SKEW:
        return ["arrived_at is in the future"]
    return []


def departure_problems(arrived_at: datetime, left_at: datetime, now: datetime) -> list[str]:
    """Why a departure cannot be recorded (empty: it can)."""
    problems = []
    if left_at < arrived_at:
        problems.append("left_at is before the arrival")
    elif left_at - arrived_at > LONGEST_VISIT:
        problems.append("the visit would last more than 12 hours")
    if left_at > now + ARRIVAL_SKEW:
        problems.append("left_at is in the future")
    return problems


def needs_problems(needs: VisitNeeds) -> list[str]:
    """Why a needs analysis does not hold together (empty: it does)."""
    problems = []
    if len(set(needs.priorities)) != len(needs.priorities):
        problems.append("priorities lists a priority more than once")
    if needs.budget is not None and needs.budget.amount <= 0:
        problems.append("budget must be positive")
    return problems
