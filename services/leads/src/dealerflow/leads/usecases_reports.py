"""The sales manager's views of leads (DOMAIN.md section 1: "the manager reviews the
contact log daily"): the daily visit report, a consultant's worklist, the board by grade
and consultant, and the funnel of a period. Read-only; dealer-local days come from the
dealer's calendar."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.leads import repository as repo
from dealerflow.leads import repository_reports as reports
from dealerflow.leads.domain_reports import WorkItemState, local_day_bounds, work_item_state
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.usecases import Uc
from dealerflow.runtime.pagination import page_of


class OthersWorklist(PermissionError):
    """A consultant asked for another consultant's worklist."""


class InvalidPeriod(ValueError):
    """A report period that ends before it starts."""


@dataclass(frozen=True)
class VisitReportQuery:
    dealer_id: str
    day: date | None  # None: the dealer's today
    consultant_id: str | None
    limit: int
    after: tuple[str, datetime, uuid.UUID] | None = None


@dataclass(frozen=True)
class VisitReport:
    dealer_id: str
    day: date
    consultants: list[reports.ConsultantDay]
    lines: list[reports.VisitLine]
    next_cursor: str | None


async def visit_report(uc: Uc, query: VisitReportQuery) -> VisitReport:
    """The contacts logged on a dealer-local day, by consultant, with each one's totals."""
    dealer = await uc.dealer(query.dealer_id)
    day = query.day or dealer.local_today(uc.now)
    start, end = local_day_bounds(day, dealer.policy.calendar.tz)
    totals = await reports.consultant_days(
        uc.conn, query.dealer_id, start, end, query.consultant_id
    )
    rows = await reports.visit_lines(
        uc.conn,
        query.dealer_id,
        start,
        end,
        consultant_id=query.consultant_id,
        limit=query.limit + 1,
        after=query.after,
    )
    lines, cursor = page_of(rows, query.limit, reports.visit_key)
    return VisitReport(query.dealer_id, day, totals, lines, cursor)


@dataclass(frozen=True)
class WorklistQuery:
    dealer_id: str
    consultant_id: str | None  # None: every consultant's (managers)
    limit: int
    after: repo.ListKey | None = None


@dataclass(frozen=True)
class WorkItem:
    lead: LeadRecord
    state: WorkItemState


@dataclass(frozen=True)
class Worklist:
    dealer_id: str
    day: date
    items: list[WorkItem]
    next_cursor: str | None


async def worklist(uc: Uc, query: WorklistQuery) -> Worklist:
    """Open leads owed a contact today (first contact, overdue, due later today), in
    priority order: referrals first, then newest."""
    dealer = await uc.dealer(query.dealer_id)
    day = dealer.local_today(uc.now)
    _, end = local_day_bounds(day, dealer.policy.calendar.tz)
    rows = await reports.worklist(
        uc.conn,
        query.dealer_id,
        end,
        consultant_id=query.consultant_id,
        limit=query.limit + 1,
        after=query.after,
    )
    leads, cursor = page_of(rows, query.limit, repo.list_key)
    items = []
    for lead in leads:
        state = work_item_state(
            last_contacted_at=lead.last_contacted_at,
            next_contact_at=lead.next_contact_at,
            now=uc.now,
        )
        if state is not None:
            items.append(WorkItem(lead, state))
    return Worklist(query.dealer_id, day, items, cursor)


@dataclass(frozen=True)
class Board:
    cells: list[reports.BoardCell]
    breaches: list[reports.BreachCount]


async def board(uc: Uc, dealer_id: str) -> Board:
    """The dealer's leads by consultant and grade, and the open ones whose first contact
    was missed, by consultant."""
    return Board(
        await reports.board(uc.conn, dealer_id),
        await reports.first_contact_breaches(uc.conn, dealer_id),
    )


@dataclass(frozen=True)
class FunnelQuery:
    dealer_id: str
    start: date  # dealer-local, inclusive
    end: date  # dealer-local, inclusive
    channel: str | None


async def funnel(uc: Uc, query: FunnelQuery) -> list[reports.FunnelRow]:
    """Per channel, the leads created from ``start`` to ``end`` (dealer-local days) and
    how far they got."""
    tz = (await uc.dealer(query.dealer_id)).policy.calendar.tz
    start, _ = local_day_bounds(query.start, tz)
    _, end = local_day_bounds(query.end, tz)
    return await reports.funnel(uc.conn, query.dealer_id, start, end, query.channel)
