"""Use cases of improvement actions: record one against a cause (with the complaints it
answers), complete it, read them. Recording and completing happen once per
Idempotency-Key: a retry is answered with the action as it is now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.complaints import repository_improvements as repository
from dealerflow.complaints.domain_improvements import (
    ImprovementAction,
    ImprovementActionNotFound,
    UnknownComplaints,
    completed,
    new_action,
)
from dealerflow.complaints.repository_improvements import ActionFilter
from dealerflow.complaints.usecases import Uc
from dealerflow.runtime import idempotency
from dealerflow.runtime.idempotency import RequestKey


@dataclass(frozen=True)
class HandledAction:
    """An action as it is now, and whether the request was a retry (nothing done)."""

    action: ImprovementAction
    today: date
    replayed: bool = False


@dataclass(frozen=True)
class RecordImprovementAction:
    """Staff record an action against ``cause``, owned by ``owner_staff_id``."""

    dealer_id: str
    cause: str
    description: str
    owner_staff_id: str
    due_on: date
    complaint_ids: tuple[uuid.UUID, ...] = ()
    request: RequestKey | None = None


@dataclass(frozen=True)
class CompleteImprovementAction:
    """Staff ``by`` (default: the caller) report the action done."""

    dealer_id: str
    action_id: uuid.UUID
    note: str | None = None
    by: str | None = None
    request: RequestKey | None = None


async def dealer_today(uc: Uc, dealer_id: str) -> date:
    """Today in the dealer's time zone."""
    return uc.now.astimezone((await uc.policy(dealer_id)).calendar.tz).date()


async def record_action(uc: Uc, cmd: RecordImprovementAction) -> HandledAction:
    """Record an open action; the complaints it names must be the dealer's."""
    today = await dealer_today(uc, cmd.dealer_id)
    action_id = uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope="improvement_actions",
        resource_id=action_id,
    )
    if earlier is not None:
        return HandledAction(await _load(uc, cmd.dealer_id, earlier), today, replayed=True)
    known = await repository.known_complaints(uc.conn, cmd.dealer_id, cmd.complaint_ids)
    missing = [c for c in dict.fromkeys(cmd.complaint_ids) if c not in known]
    if missing:
        raise UnknownComplaints(missing)
    action = new_action(
        action_id=action_id,
        dealer_id=cmd.dealer_id,
        cause=cmd.cause,
        description=cmd.description,
        owner_staff_id=cmd.owner_staff_id,
        due_on=cmd.due_on,
        complaint_ids=cmd.complaint_ids,
        at=uc.now,
        today=today,
        by=uc.actor,
    )
    await repository.insert_action(uc.conn, action)
    return HandledAction(action, today)


async def complete_action(uc: Uc, cmd: CompleteImprovementAction) -> HandledAction:
    """Mark the action done (once)."""
    today = await dealer_today(uc, cmd.dealer_id)
    if await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope=f"improvement_action_completion:{cmd.action_id}",
        resource_id=cmd.action_id,
    ):
        return HandledAction(await _load(uc, cmd.dealer_id, cmd.action_id), today, replayed=True)
    action = await _load(uc, cmd.dealer_id, cmd.action_id, for_update=True)
    done = completed(action, at=uc.now, by=cmd.by or uc.actor, note=cmd.note)
    await repository.save_completion(uc.conn, done)
    return HandledAction(done, today)


async def improvement_action(uc: Uc, dealer_id: str, action_id: uuid.UUID) -> HandledAction:
    """One action of the dealer."""
    return HandledAction(await _load(uc, dealer_id, action_id), await dealer_today(uc, dealer_id))


async def list_actions(
    uc: Uc, where: ActionFilter, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> tuple[list[ImprovementAction], date]:
    """The dealer's actions matching ``where``, newest first, and the dealer's today."""
    found = await repository.list_actions(uc.conn, where, limit=limit, after=after)
    return found, await dealer_today(uc, where.dealer_id)


async def _load(
    uc: Uc, dealer_id: str, action_id: uuid.UUID, *, for_update: bool = False
) -> ImprovementAction:
    action = await repository.get_action(uc.conn, dealer_id, action_id, for_update=for_update)
    if action is None:
        raise ImprovementActionNotFound(action_id)
    return action
