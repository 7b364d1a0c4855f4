"""The showroom visit register: reception records a visit (ShowroomVisitRecorded), the
consultant takes the needs analysis and records the departure. Each step publishes the
visit as it stands now (ShowroomVisitRecorded again, same visit_id: reactors key on it);
a retry of a step with its Idempotency-Key changes and publishes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.events.sales import ShowroomVisitRecorded, VisitNeeds
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import repository_visits as visits_repo
from dealerflow.sales.domain_visits import (
    VisitRecord,
    arrival_problems,
    departure_problems,
    needs_problems,
    visit_kind,
)
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import Created, Customer, RequestRefused, identify

#: The most visits one history answer lists.
HISTORY_LIMIT = 100


class VisitNotFound(LookupError):
    """No visit with that id at that dealer."""

    def __init__(self, visit_id: uuid.UUID) -> None:
        super().__init__(f"No visit with id {visit_id}")


class VisitRefused(RequestRefused):
    """The visit does not add up (arrival ahead, departure before arrival, ...)."""


class VisitAlreadyLeft(Exception):
    """The departure of this visit is on record already."""

    def __init__(self, visit_id: uuid.UUID) -> None:
        super().__init__(f"visit {visit_id} already has its departure recorded")


@dataclass(frozen=True)
class RecordVisit:
    """Register a visitor at reception (departure and needs may come with it or later)."""

    dealer_id: str
    customer: Customer
    consultant_id: str
    arrived_at: datetime
    party_size: int
    lead_id: str | None = None
    customer_id: uuid.UUID | None = None
    dealer_group: str | None = None
    left_at: datetime | None = None
    needs: VisitNeeds | None = None
    visit_id: uuid.UUID | None = None
    request: RequestKey | None = None


@dataclass(frozen=True)
class RecordNeeds:
    """The needs analysis of a visit (replaces an earlier one of the same visit)."""

    dealer_id: str
    visit_id: uuid.UUID
    needs: VisitNeeds
    request: RequestKey | None = None


@dataclass(frozen=True)
class RecordDeparture:
    """The visitor left: the visit's duration becomes known."""

    dealer_id: str
    visit_id: uuid.UUID
    left_at: datetime
    request: RequestKey | None = None


async def get_visit(
    uc: UseCaseContext[SalesSettings], dealer_id: str, visit_id: uuid.UUID
) -> VisitRecord:
    """The visit as registered (VisitNotFound if the dealer has no such visit)."""
    visit = await visits_repo.get_visit(uc.conn, dealer_id, visit_id)
    if visit is None:
        raise VisitNotFound(visit_id)
    return visit


async def visit_history(
    uc: UseCaseContext[SalesSettings], dealer_id: str, customer_id: uuid.UUID
) -> list[VisitRecord]:
    """The customer's visits with their needs, newest first."""
    return await visits_repo.visits_of_customer(
        uc.conn, dealer_id, customer_id, limit=HISTORY_LIMIT
    )


async def _publish(uc: UseCaseContext[SalesSettings], visit: VisitRecord) -> None:
    await uc.publish(
        ShowroomVisitRecorded(
            dealer_id=visit.dealer_id,
            customer_id=visit.customer_id,
            occurred_at=uc.now,
            visit_id=str(visit.id),
            lead_id=visit.lead_id,
            consultant_id=visit.consultant_id,
            arrived_at=visit.arrived_at,
            party_size=visit.party_size,
            visit_kind=visit.visit_kind,
            duration_minutes=visit.duration_minutes,
            contact=visit.contact,
            needs=visit.needs,
        )
    )


async def record_visit(uc: UseCaseContext[SalesSettings], cmd: RecordVisit) -> Created[VisitRecord]:
    """A new row of the register, first or return visit as the register says:
    ShowroomVisitRecorded. A retry gets the first visit."""
    visit_id = cmd.visit_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="visits", resource_id=visit_id
    )
    if earlier is not None:
        return Created(await get_visit(uc, cmd.dealer_id, earlier), created=False)
    problems = arrival_problems(cmd.arrived_at, uc.now)
    if cmd.left_at is not None:
        problems += departure_problems(cmd.arrived_at, cmd.left_at, uc.now)
    if cmd.needs is not None:
        problems += needs_problems(cmd.needs)
    if problems:
        raise VisitRefused(problems)
    customer_id, phone = identify(
        uc.settings, cmd.customer.phone, customer_id=cmd.customer_id, dealer_group=cmd.dealer_group
    )
    await visits_repo.lock_customer_register(uc.conn, cmd.dealer_id, customer_id)
    earlier_visits = await visits_repo.count_visits_before(
        uc.conn, cmd.dealer_id, customer_id, cmd.arrived_at
    )
    visit = VisitRecord(
        dealer_id=cmd.dealer_id,
        id=visit_id,
        customer_id=customer_id,
        lead_id=cmd.lead_id,
        consultant_id=cmd.consultant_id,
        arrived_at=cmd.arrived_at,
        party_size=cmd.party_size,
        visit_kind=visit_kind(earlier_visits),
        contact=cmd.customer.contact(phone),
        created_at=uc.now,
        left_at=cmd.left_at,
        needs=cmd.needs,
    )
    await visits_repo.insert_visit(uc.conn, visit)
    await _publish(uc, visit)
    return Created(visit, created=True)


async def _first_time(
    uc: UseCaseContext[SalesSettings],
    dealer_id: str,
    visit_id: uuid.UUID,
    step: str,
    request: RequestKey | None,
) -> tuple[VisitRecord, bool]:
    """The visit, locked until the transaction ends, and whether this is the first
    request of the step with its key (False: a retry, to answer with the visit as is)."""
    visit = await visits_repo.get_visit(uc.conn, dealer_id, visit_id, for_update=True)
    if visit is None:
        raise VisitNotFound(visit_id)
    earlier = await idempotency.claimed_resource(
        uc.conn,
        request,
        dealer_id=dealer_id,
        scope=f"visit-{step}:{visit_id}",
        resource_id=visit_id,
    )
    return visit, earlier is None


async def record_needs(uc: UseCaseContext[SalesSettings], cmd: RecordNeeds) -> VisitRecord:
    """Store the needs analysis and publish the visit with it (it feeds the lead's
    interest). A retry answers the visit as it stands."""
    visit, first = await _first_time(uc, cmd.dealer_id, cmd.visit_id, "needs", cmd.request)
    if not first:
        return visit
    problems = needs_problems(cmd.needs)
    if problems:
        raise VisitRefused(problems)
    await visits_repo.set_needs(uc.conn, cmd.dealer_id, cmd.visit_id, cmd.needs)
    visit = await get_visit(uc, cmd.dealer_id, cmd.visit_id)
    await _publish(uc, visit)
    return visit


async def record_departure(uc: UseCaseContext[SalesSettings], cmd: RecordDeparture) -> VisitRecord:
    """Record when the visitor left (once: VisitAlreadyLeft after) and publish the visit
    with its duration. A retry answers the visit as it stands."""
    visit, first = await _first_time(uc, cmd.dealer_id, cmd.visit_id, "departure", cmd.request)
    if not first:
        return visit
    if visit.left_at is not None:
        raise VisitAlreadyLeft(cmd.visit_id)
    problems = departure_problems(visit.arrived_at, cmd.left_at, uc.now)
    if problems:
        raise VisitRefused(problems)
    await visits_repo.set_departure(uc.conn, cmd.dealer_id, cmd.visit_id, cmd.left_at)
    visit = await get_visit(uc, cmd.dealer_id, cmd.visit_id)
    await _publish(uc, visit)
    return visit
