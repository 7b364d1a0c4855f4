"""Use cases of staff acting on a complaint: acknowledge, inform, assign, resolve, close,
reopen, pause and resume. Each locks the complaint, checks the status machine (the domain's
`IllegalTransition`, or `ActionNotAllowed`), updates the complaint and its clocks and
publishes the event, in the caller's transaction. Each takes one command (a frozen
dataclass naming the dealer and the complaint, defined beside its use case); `act_once` runs
a staff action once per Idempotency-Key.

Who did it (who acknowledged, informed, closed, reopened, paused, resumed) is the staff id
the command names, else the caller: `uc.actor`, the subject of the request's token. The
history entry of every staff action records that person (`_doer`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dealerflow.complaints import repository, repository_pauses, usecases_clocks
from dealerflow.complaints.domain import ComplaintAction, ComplaintStatus
from dealerflow.complaints.records import ClockStatus, ComplaintRecord
from dealerflow.complaints.usecases import (
    ActionNotAllowed,
    Handled,
    Uc,
    case_of,
    load_for_update,
    next_status,
    reload,
    reopened_resolve_clock,
    stopped_kinds,
)
from dealerflow.contracts.care_enums import Department, Responsibility
from dealerflow.contracts.enums import AssignmentReason, ContactChannel
from dealerflow.contracts.events.complaints import (
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintReopened,
    ComplaintResolved,
)
from dealerflow.runtime import idempotency
from dealerflow.runtime.idempotency import RequestKey

#: Statuses in which the complaint is being handled (assignable, pausable).
HANDLING = frozenset(
    {ComplaintStatus.OPENED, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.REOPENED}
)

_A = ComplaintAction


@dataclass(frozen=True)
class ComplaintCommand:
    """What every staff action names: the complaint, at its dealer."""

    dealer_id: str
    complaint_id: uuid.UUID


C = TypeVar("C", bound=ComplaintCommand)


async def act_once(
    uc: Uc,
    action: str,
    cmd: C,
    request: RequestKey | None,
    act: Callable[[Uc, C], Awaitable[ComplaintRecord | None]],
) -> Handled:
    """Run the staff action ``act(uc, cmd)`` on a complaint, once per Idempotency-Key: a
    retry (same key and body) is answered with the complaint as it is now and changes
    nothing."""
    if await idempotency.claimed_resource(
        uc.conn,
        request,
        dealer_id=cmd.dealer_id,
        scope=f"{action}:{cmd.complaint_id}",
        resource_id=cmd.complaint_id,
    ):
        return Handled(await case_of(uc, await reload(uc, cmd.dealer_id, cmd.complaint_id)), True)
    complaint = await act(uc, cmd)
    if complaint is None:  # pragma: no cover - only automatic (trigger) reopenings are None
        raise RuntimeError(f"{action} of complaint {cmd.complaint_id} changed nothing")
    return Handled(await case_of(uc, complaint))


def _common(uc: Uc, complaint: ComplaintRecord) -> dict[str, Any]:
    return {
        "dealer_id": complaint.dealer_id,
        "customer_id": complaint.customer_id,
        "occurred_at": uc.now,
        "complaint_id": str(complaint.id),
    }


async def _history(
    uc: Uc,
    complaint: ComplaintRecord,
    action: str,
    actor: str | None,
    trigger_ref: str | None = None,
    **details: object,
) -> bool:
    return await repository.add_history(
        uc.conn,
        dealer_id=complaint.dealer_id,
        complaint_id=complaint.id,
        action=action,
        actor=actor,
        at=uc.now,
        details=details,
        trigger_ref=trigger_ref,
    )


def _doer(uc: Uc, named: str | None, fallback: str | None = None) -> str | None:
    """Who acts: the staff id the command names, else the caller (the token's subject),
    else ``fallback``."""
    return named or uc.actor or fallback


async def _stop_clocks(uc: Uc, complaint: ComplaintRecord, action: ComplaintAction) -> None:
    clocks = await repository.clocks_of(uc.conn, complaint.dealer_id, complaint.id)
    await usecases_clocks.stop(
        uc.conn, clocks, stopped_kinds(action), at=uc.now, action=action.value
    )


@dataclass(frozen=True)
class AcknowledgeComplaint(ComplaintCommand):
    """Staff ``handler_id`` thanked the customer (by ``channel``); default: the caller, else
    the complaint's handler."""

    handler_id: str | None
    channel: ContactChannel


async def acknowledge(uc: Uc, cmd: AcknowledgeComplaint) -> ComplaintRecord:
    """The customer was thanked and told the complaint is handled: stops the acknowledge
    clock and its escalations."""
    dealer_id, complaint_id, channel = cmd.dealer_id, cmd.complaint_id, cmd.channel
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    status = next_status(complaint, _A.ACKNOWLEDGE)
    await _stop_clocks(uc, complaint, _A.ACKNOWLEDGE)
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, status=status, acknowledged_at=uc.now
    )
    who = _doer(uc, cmd.handler_id, complaint.handler_id) or complaint.handler_id
    await _history(uc, complaint, "acknowledged", who, channel=channel.value)
    await uc.publish(
        ComplaintAcknowledged(
            **_common(uc, complaint),
            handler_id=who,
            channel=channel,
            acknowledged_at=uc.now,
        )
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class InformCustomer(ComplaintCommand):
    """Staff ``by`` (default: the caller) told the customer how the complaint is handled."""

    by: str | None = None
    note: str | None = None


async def inform(uc: Uc, cmd: InformCustomer) -> ComplaintRecord:
    """The customer was told how the complaint is being handled (the legal duty): stops
    the inform clock. No event: the contracts have none for it."""
    dealer_id, complaint_id = cmd.dealer_id, cmd.complaint_id
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    status = next_status(complaint, _A.INFORM_CUSTOMER)
    await _stop_clocks(uc, complaint, _A.INFORM_CUSTOMER)
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, status=status, informed_at=uc.now
    )
    await _history(uc, complaint, "customer_informed", _doer(uc, cmd.by), note=cmd.note)
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class AssignComplaint(ComplaintCommand):
    """Give the complaint to ``handler_id`` in ``department``."""

    handler_id: str
    department: Department
    reason: AssignmentReason


async def assign(uc: Uc, cmd: AssignComplaint) -> ComplaintRecord:
    """A (new) handler and department take the complaint over."""
    dealer_id, complaint_id = cmd.dealer_id, cmd.complaint_id
    handler_id, department, reason = cmd.handler_id, cmd.department, cmd.reason
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    if complaint.status not in HANDLING:
        raise ActionNotAllowed(f"cannot assign a complaint that is {complaint.status.value}")
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, handler_id=handler_id, department=department.value
    )
    await _history(
        uc,
        complaint,
        "assigned",
        _doer(uc, None, handler_id),
        handler_id=handler_id,
        previous=complaint.handler_id,
        department=department.value,
        reason=reason.value,
    )
    await uc.publish(
        ComplaintAssigned(
            **_common(uc, complaint),
            handler_id=handler_id,
            previous_handler_id=complaint.handler_id,
            department=department,
            reason=reason,
            assigned_at=uc.now,
        )
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class ResolveComplaint(ComplaintCommand):
    """Record what was found and done (the handler defaults to the complaint's)."""

    responsibility: Responsibility
    measures: list[str]
    resolution: str
    responsible_department: Department | None = None
    cause: str | None = None
    handler_id: str | None = None
    #: the responsible person (staff id), when the investigation names one
    responsible_staff_id: str | None = None


async def resolve(uc: Uc, cmd: ResolveComplaint) -> ComplaintRecord:
    """Measures agreed and carried out, reply given: every clock still running stops."""
    dealer_id, complaint_id = cmd.dealer_id, cmd.complaint_id
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    status = next_status(complaint, _A.RESOLVE)
    clocks = await repository.clocks_of(uc.conn, dealer_id, complaint_id)
    await usecases_clocks.stop(
        uc.conn, clocks, stopped_kinds(_A.RESOLVE), at=uc.now, action="resolve"
    )
    # whatever else is still open is moot once resolved
    rest = await repository.clocks_of(uc.conn, dealer_id, complaint_id)
    await usecases_clocks.stop(
        uc.conn, rest, None, at=uc.now, action="resolve", status=ClockStatus.STOPPED
    )
    await usecases_clocks.cancel_all(uc.conn, complaint_id)
    who = cmd.handler_id or complaint.handler_id
    if complaint.paused:
        await repository_pauses.end_pause(
            uc.conn,
            dealer_id=dealer_id,
            complaint_id=complaint_id,
            at=uc.now,
            by=_doer(uc, None, who),
            ended_by="resolve",
        )
    stored = {
        "responsibility": cmd.responsibility.value,
        "responsible_department": (
            cmd.responsible_department.value if cmd.responsible_department else None
        ),
        "responsible_staff_id": cmd.responsible_staff_id,
        "cause": cmd.cause,
        "measures": cmd.measures,
        "resolution": cmd.resolution,
        "handler_id": who,
    }
    await repository.update_complaint(
        uc.conn,
        dealer_id,
        complaint_id,
        status=status,
        resolved_at=uc.now,
        first_resolved_at=complaint.first_resolved_at or uc.now,
        resolution=stored,
        paused_at=None,
        pause_reason=None,
    )
    await _history(uc, complaint, "resolved", _doer(uc, None, who), resolution=stored)
    await uc.publish(
        ComplaintResolved(
            **_common(uc, complaint),
            handler_id=who,
            responsibility=cmd.responsibility,
            responsible_department=cmd.responsible_department,
            responsible_staff_id=cmd.responsible_staff_id,
            cause=cmd.cause,
            measures=cmd.measures,
            resolution=cmd.resolution,
            resolved_at=uc.now,
        )
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class CloseComplaint(ComplaintCommand):
    """Staff ``closed_by`` (default: the caller) closes the complaint, with or without the
    customer's word."""

    customer_confirmed: bool
    closed_by: str | None = None
    #: unique reference of the trigger of an automatic closing ("task:<id>": a satisfied
    #: verification callback)
    trigger_ref: str | None = None


async def close(uc: Uc, cmd: CloseComplaint) -> ComplaintRecord | None:
    """The customer confirmed (or the dealer closes after verification): loop closed.
    With a ``trigger_ref`` the same trigger closes at most once: a repeat returns None."""
    dealer_id, complaint_id = cmd.dealer_id, cmd.complaint_id
    closed_by, customer_confirmed = _doer(uc, cmd.closed_by), cmd.customer_confirmed
    if closed_by is None:
        raise ActionNotAllowed("name who closes the complaint (closed_by)")
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    status = next_status(complaint, _A.CLOSE)
    if not await _history(
        uc,
        complaint,
        "closed",
        closed_by,
        cmd.trigger_ref,
        customer_confirmed=customer_confirmed,
    ):
        return None
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, status=status, closed_at=uc.now
    )
    await uc.publish(
        ComplaintClosed(
            **_common(uc, complaint),
            customer_confirmed=customer_confirmed,
            closed_by=closed_by,
            closed_at=uc.now,
        )
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class ReopenComplaint(ComplaintCommand):
    """Open the complaint again, by staff ``by`` (default: the caller) or by an automatic
    trigger."""

    reason: str
    by: str | None = None
    #: unique reference of the trigger of an automatic reopening ("task:<id>", ...)
    trigger_ref: str | None = None


async def reopen(uc: Uc, cmd: ReopenComplaint) -> ComplaintRecord | None:
    """The customer is not satisfied: open again with a fresh resolve clock. With a
    ``trigger_ref`` (automatic reopening) the same trigger reopens at most once: a repeat
    returns None and changes nothing."""
    dealer_id, complaint_id, reason = cmd.dealer_id, cmd.complaint_id, cmd.reason
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    status = next_status(complaint, _A.REOPEN)
    # an automatic reopening is nobody's act (the trigger event's actor did not reopen it)
    by = cmd.by if cmd.trigger_ref else _doer(uc, cmd.by)
    if not await _history(uc, complaint, "reopened", by, cmd.trigger_ref, reason=reason):
        return None
    policy = await uc.policy(dealer_id)
    clock = reopened_resolve_clock(complaint, uc.now, policy)
    await usecases_clocks.arm(uc.conn, [clock])
    count = complaint.reopen_count + 1
    await repository.update_complaint(
        uc.conn,
        dealer_id,
        complaint_id,
        status=status,
        reopen_count=count,
        reopened_at=uc.now,
        closed_at=None,
    )
    await uc.publish(
        ComplaintReopened(
            **_common(uc, complaint),
            handler_id=complaint.handler_id,
            reason=reason,
            reopen_count=count,
            reopened_at=uc.now,
        )
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class PauseClocks(ComplaintCommand):
    """Staff ``by`` (default: the caller) waits on the customer, for ``reason``."""

    reason: str
    by: str | None = None


async def pause_clocks(uc: Uc, cmd: PauseClocks) -> ComplaintRecord:
    """Waiting on the customer: running pausable clocks stop, keeping their time left; the
    pause (who, why, which clocks) is recorded until resume (or resolve) ends it."""
    dealer_id, complaint_id, reason = cmd.dealer_id, cmd.complaint_id, cmd.reason
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    if complaint.status not in HANDLING:
        raise ActionNotAllowed(f"cannot pause a complaint that is {complaint.status.value}")
    if complaint.paused:
        raise ActionNotAllowed("the complaint's clocks are already paused")
    policy = await uc.policy(dealer_id)
    clocks = await repository.clocks_of(uc.conn, dealer_id, complaint_id)
    paused = await usecases_clocks.pause_running(uc.conn, clocks, uc.now, policy)
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, paused_at=uc.now, pause_reason=reason
    )
    who = _doer(uc, cmd.by)
    await repository_pauses.open_pause(
        uc.conn,
        dealer_id=dealer_id,
        complaint_id=complaint_id,
        at=uc.now,
        by=who,
        reason=reason,
        clocks=[c.label for c in paused],
    )
    await _history(
        uc, complaint, "paused", who, reason=reason, clocks=[c.kind.value for c in paused]
    )
    return await reload(uc, dealer_id, complaint_id)


@dataclass(frozen=True)
class ResumeClocks(ComplaintCommand):
    """Staff ``by`` (default: the caller) has the customer back."""

    by: str | None = None


async def resume_clocks(uc: Uc, cmd: ResumeClocks) -> ComplaintRecord:
    """The customer is back: paused clocks run again with the time they had left."""
    dealer_id, complaint_id = cmd.dealer_id, cmd.complaint_id
    complaint = await load_for_update(uc, dealer_id, complaint_id)
    if not complaint.paused:
        raise ActionNotAllowed("the complaint's clocks are not paused")
    policy = await uc.policy(dealer_id)
    clocks = await repository.clocks_of(uc.conn, dealer_id, complaint_id)
    resumed = await usecases_clocks.resume_paused(uc.conn, clocks, uc.now, policy)
    await repository.update_complaint(
        uc.conn, dealer_id, complaint_id, paused_at=None, pause_reason=None
    )
    who = _doer(uc, cmd.by)
    await repository_pauses.end_pause(
        uc.conn,
        dealer_id=dealer_id,
        complaint_id=complaint_id,
        at=uc.now,
        by=who,
        ended_by="resume",
    )
    await _history(uc, complaint, "resumed", who, clocks=[c.kind.value for c in resumed])
    return await reload(uc, dealer_id, complaint_id)
