"""The dealer's care calendar (`domain_calendar.CARE_CALENDAR` with the dealer's policy):
the effective rules, and a preview of what an event would make the notifier schedule."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dealerflow.contracts.envelope import Envelope, EventDecodeError
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.notifier import consumers
from dealerflow.notifier.domain_calendar import (
    CareRule,
    EffectiveRule,
    effective_calendar,
    triggered_by,
    turned_off,
    unknown_disabled,
)
from dealerflow.notifier.repository_calendar import Written, written_in_transaction
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.dry_run import dry_run, envelope_of
from dealerflow.runtime.service import ServiceContext

Uc = UseCaseContext[NotifierSettings]

log = logging.getLogger("dealerflow.notifier")


@dataclass(frozen=True, slots=True)
class CalendarView:
    dealer_id: str
    rules: list[EffectiveRule]
    #: ``care.disabled`` keys that name no rule (ignored).
    unknown_disabled: list[str]


async def care_calendar(uc: Uc, dealer_id: str) -> CalendarView:
    """Every rule with the dealer's numbers and whether the dealer has it on."""
    policy = await uc.policy(dealer_id)
    return CalendarView(dealer_id, effective_calendar(policy), _unknown_logged(dealer_id, policy))


def _unknown_logged(dealer_id: str, policy: DealerPolicy) -> list[str]:
    """The dealer's unknown ``care.disabled`` keys, logged (they are ignored)."""
    unknown = unknown_disabled(policy)
    if unknown:
        log.warning("dealer %s: care.disabled names unknown rules %s (ignored)", dealer_id, unknown)
    return unknown


class InvalidPreviewEvent(ValueError):
    """The preview's event is not a valid dealerflow event (422, the reason)."""


class EventOfAnotherDealer(PermissionError):
    """The preview's event names another dealer than the caller's (403)."""


@dataclass(frozen=True)
class PreviewEvent:
    """``POST /v1/care-calendar/preview``: an event as published, for ``dealer_id``."""

    dealer_id: str
    event: Mapping[str, Any]


@dataclass(frozen=True)
class PreviewView:
    dealer_id: str
    event_type: str
    #: Handlers of the notifier's routers for the event (0: the notifier ignores it).
    handlers: int
    #: The rules the event triggers, and those of them the dealer turned off.
    rules: list[CareRule]
    disabled: list[CareRule]
    written: Written
    published: list[Envelope[DomainEvent]]


def _envelope(cmd: PreviewEvent) -> Envelope[DomainEvent]:
    try:
        envelope = envelope_of(cmd.event)
    except EventDecodeError as exc:
        raise InvalidPreviewEvent(exc.reason) from None
    if envelope.event.dealer_id != cmd.dealer_id:
        raise EventOfAnotherDealer(
            f"the event is for dealer {envelope.event.dealer_id}, not {cmd.dealer_id}"
        )
    return envelope


async def preview(ctx: ServiceContext[NotifierSettings], cmd: PreviewEvent) -> PreviewView:
    """What the notifier's REAL handlers would schedule for the event: they run in a
    transaction that is rolled back (`dealerflow.runtime.dry_run`), and the tasks,
    reminders, messages and timers they wrote are read before the rollback. Nothing is
    left in the database and nothing is published."""
    envelope = _envelope(cmd)

    async def inspect(conn: DbConnection) -> tuple[Written, DealerPolicy]:
        dealer = await ctx.dealers.settings(conn, cmd.dealer_id)
        return await written_in_transaction(conn), dealer.policy

    result = await dry_run(
        ctx.db,
        [consumers.router, consumers.consent_router],
        envelope,
        inspect,
        settings=ctx.settings,
        clock=ctx.clock,
        dealers=ctx.dealers,
        topics=ctx.topics,
        source=ctx.source,
    )
    written, policy = result.seen
    _unknown_logged(cmd.dealer_id, policy)
    rules = triggered_by(type(envelope.event).__name__)
    off = turned_off(policy)
    return PreviewView(
        dealer_id=cmd.dealer_id,
        event_type=envelope.meta.type,
        handlers=result.handlers,
        rules=rules,
        disabled=[r for r in rules if r.key in off],
        written=written,
        published=result.published,
    )
