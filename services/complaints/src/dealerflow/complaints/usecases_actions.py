"""Use cases of staff acting on a complaint: acknowledge, inform, assign, resolve, close,
reopen, pause and resume. Each locks the complaint, checks the status machine (the domain's
`IllegalTransition`, or `ActionNotAllowed`), updates the complaint and its clocks and
publishes the event, in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dealerflow.complaints import repository, sla
from dealerflow.complaints.domain import ComplaintAction, ComplaintStatus
from dealerflow.complaints.policy import policy_for
from dealerflow.complaints.records import ClockStatus, ComplaintRecord
from dealerflow.complaints.usecases import (
    ActionNotAllowed,
    Work,
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

#: Statuses in which the complaint is being handled (assignable, pausable).
HANDLING = frozenset(
    {ComplaintStatus.OPENED, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.REOPENED}
)

_A = ComplaintAction


def _common(work: Work, complaint: ComplaintRecord) -> dict[str, Any]:
    return {
        "dealer_id": complaint.dealer_id,
        "customer_id": complaint.customer_id,
        "occurred_at": work.now,
        "complaint_id": str(complaint.id),
    }


async def _history(
    work: Work,
    complaint: ComplaintRecord,
    action: str,
    actor: str | None,
    trigger_ref: str | None = None,
    **details: object,
) -> bool:
    return await repository.add_history(
        work.conn,
        dealer_id=complaint.dealer_id,
        complaint_id=complaint.id,
        action=action,
        actor=actor,
        at=work.now,
        details=details,
        trigger_ref=trigger_ref,
    )


async def _stop_clocks(work: Work, complaint: ComplaintRecord, action: ComplaintAction) -> None:
    clocks = await repository.clocks_of(work.conn, complaint.dealer_id, complaint.id)
    await sla.stop(work.conn, clocks, stopped_kinds(action), at=work.now, action=action.value)


async def acknowledge(
    work: Work,
    dealer_id: str,
    complaint_id: uuid.UUID,
    *,
    channel: ContactChannel,
    handler_id: str | None = None,
) -> ComplaintRecord:
    """The customer was thanked and told the complaint is handled: stops the acknowledge
    clock and its escalations."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    status = next_status(complaint, _A.ACKNOWLEDGE)
    await _stop_clocks(work, complaint, _A.ACKNOWLEDGE)
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, status=status, acknowledged_at=work.now
    )
    who = handler_id or complaint.handler_id
    await _history(work, complaint, "acknowledged", who, channel=channel.value)
    await work.publish(
        ComplaintAcknowledged(
            **_common(work, complaint),
            handler_id=who,
            channel=channel,
            acknowledged_at=work.now,
        )
    )
    return await reload(work, dealer_id, complaint_id)


async def inform(
    work: Work, dealer_id: str, complaint_id: uuid.UUID, *, by: str, note: str | None = None
) -> ComplaintRecord:
    """The customer was told how the complaint is being handled (the legal duty): stops
    the inform clock. No event: the contracts have none for it."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    status = next_status(complaint, _A.INFORM_CUSTOMER)
    await _stop_clocks(work, complaint, _A.INFORM_CUSTOMER)
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, status=status, informed_at=work.now
    )
    await _history(work, complaint, "customer_informed", by, note=note)
    return await reload(work, dealer_id, complaint_id)


async def assign(
    work: Work,
    dealer_id: str,
    complaint_id: uuid.UUID,
    *,
    handler_id: str,
    department: Department,
    reason: AssignmentReason,
) -> ComplaintRecord:
    """A (new) handler and department take the complaint over."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    if complaint.status not in HANDLING:
        raise ActionNotAllowed(f"cannot assign a complaint that is {complaint.status.value}")
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, handler_id=handler_id, department=department.value
    )
    await _history(
        work,
        complaint,
        "assigned",
        handler_id,
        previous=complaint.handler_id,
        department=department.value,
        reason=reason.value,
    )
    await work.publish(
        ComplaintAssigned(
            **_common(work, complaint),
            handler_id=handler_id,
            previous_handler_id=complaint.handler_id,
            department=department,
            reason=reason,
            assigned_at=work.now,
        )
    )
    return await reload(work, dealer_id, complaint_id)


@dataclass(frozen=True)
class Resolution:
    """What was found and done."""

    responsibility: Responsibility
    measures: list[str]
    resolution: str
    responsible_department: Department | None = None
    cause: str | None = None
    handler_id: str | None = None


async def resolve(
    work: Work, dealer_id: str, complaint_id: uuid.UUID, resolution: Resolution
) -> ComplaintRecord:
    """Measures agreed and carried out, reply given: every clock still running stops."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    status = next_status(complaint, _A.RESOLVE)
    clocks = await repository.clocks_of(work.conn, dealer_id, complaint_id)
    await sla.stop(work.conn, clocks, stopped_kinds(_A.RESOLVE), at=work.now, action="resolve")
    # whatever else is still open is moot once resolved
    rest = await repository.clocks_of(work.conn, dealer_id, complaint_id)
    await sla.stop(work.conn, rest, None, at=work.now, action="resolve", status=ClockStatus.STOPPED)
    await sla.cancel_all(work.conn, complaint_id)
    who = resolution.handler_id or complaint.handler_id
    stored = {
        "responsibility": resolution.responsibility.value,
        "responsible_department": (
            resolution.responsible_department.value if resolution.responsible_department else None
        ),
        "cause": resolution.cause,
        "measures": resolution.measures,
        "resolution": resolution.resolution,
        "handler_id": who,
    }
    await repository.update_complaint(
        work.conn,
        dealer_id,
        complaint_id,
        status=status,
        resolved_at=work.now,
        first_resolved_at=complaint.first_resolved_at or work.now,
        resolution=stored,
        paused_at=None,
        pause_reason=None,
    )
    await _history(work, complaint, "resolved", who, resolution=stored)
    await work.publish(
        ComplaintResolved(
            **_common(work, complaint),
            handler_id=who,
            responsibility=resolution.responsibility,
            responsible_department=resolution.responsible_department,
            cause=resolution.cause,
            measures=resolution.measures,
            resolution=resolution.resolution,
            resolved_at=work.now,
        )
    )
    return await reload(work, dealer_id, complaint_id)


async def close(
    work: Work, dealer_id: str, complaint_id: uuid.UUID, *, closed_by: str, customer_confirmed: bool
) -> ComplaintRecord:
    """The customer confirmed (or the dealer closes after verification): loop closed."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    status = next_status(complaint, _A.CLOSE)
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, status=status, closed_at=work.now
    )
    await _history(work, complaint, "closed", closed_by, customer_confirmed=customer_confirmed)
    await work.publish(
        ComplaintClosed(
            **_common(work, complaint),
            customer_confirmed=customer_confirmed,
            closed_by=closed_by,
            closed_at=work.now,
        )
    )
    return await reload(work, dealer_id, complaint_id)


async def reopen(
    work: Work,
    dealer_id: str,
    complaint_id: uuid.UUID,
    *,
    reason: str,
    by: str | None = None,
    trigger_ref: str | None = None,
) -> ComplaintRecord | None:
    """The customer is not satisfied: open again with a fresh resolve clock. With a
    ``trigger_ref`` (automatic reopening) the same trigger reopens at most once: a repeat
    returns None and changes nothing."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    status = next_status(complaint, _A.REOPEN)
    if not await _history(work, complaint, "reopened", by, trigger_ref, reason=reason):
        return None
    policy = await policy_for(work.conn, dealer_id, work.settings)
    clock = reopened_resolve_clock(complaint, work.now, policy)
    await sla.arm(work.conn, [clock])
    count = complaint.reopen_count + 1
    await repository.update_complaint(
        work.conn,
        dealer_id,
        complaint_id,
        status=status,
        reopen_count=count,
        reopened_at=work.now,
        closed_at=None,
    )
    await work.publish(
        ComplaintReopened(
            **_common(work, complaint),
            handler_id=complaint.handler_id,
            reason=reason,
            reopen_count=count,
            reopened_at=work.now,
        )
    )
    return await reload(work, dealer_id, complaint_id)


async def pause_clocks(
    work: Work, dealer_id: str, complaint_id: uuid.UUID, *, by: str, reason: str
) -> ComplaintRecord:
    """Waiting on the customer: running pausable clocks stop, keeping their time left."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    if complaint.status not in HANDLING:
        raise ActionNotAllowed(f"cannot pause a complaint that is {complaint.status.value}")
    if complaint.paused:
        raise ActionNotAllowed("the complaint's clocks are already paused")
    policy = await policy_for(work.conn, dealer_id, work.settings)
    clocks = await repository.clocks_of(work.conn, dealer_id, complaint_id)
    paused = await sla.pause_running(work.conn, clocks, work.now, policy)
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, paused_at=work.now, pause_reason=reason
    )
    await _history(
        work, complaint, "paused", by, reason=reason, clocks=[c.kind.value for c in paused]
    )
    return await reload(work, dealer_id, complaint_id)


async def resume_clocks(
    work: Work, dealer_id: str, complaint_id: uuid.UUID, *, by: str
) -> ComplaintRecord:
    """The customer is back: paused clocks run again with the time they had left."""
    complaint = await load_for_update(work, dealer_id, complaint_id)
    if not complaint.paused:
        raise ActionNotAllowed("the complaint's clocks are not paused")
    policy = await policy_for(work.conn, dealer_id, work.settings)
    clocks = await repository.clocks_of(work.conn, dealer_id, complaint_id)
    resumed = await sla.resume_paused(work.conn, clocks, work.now, policy)
    await repository.update_complaint(
        work.conn, dealer_id, complaint_id, paused_at=None, pause_reason=None
    )
    await _history(work, complaint, "resumed", by, clocks=[c.kind.value for c in resumed])
    return await reload(work, dealer_id, complaint_id)
