"""Reactions to the leads topic: the first-contact task and its watches, the follow-up
cadence of the lead's grade, appointment reminders, and closing a lead's tasks.

Same conventions as `usecases`: one ``UseCaseContext`` (``uc``), facts mapped by the
consumers, pure planners from ``domain*``, and stable business keys so a redelivered or
repeated event changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, TaskCancelReason
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import domain
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain import (
    AppointmentFacts,
    LeadAssignmentFacts,
    LeadClosedFacts,
    LeadContactFacts,
    LeadFacts,
    LeadGradeFacts,
    StaffRole,
)
from dealerflow.notifier.domain_alerts import task_outcome_of_contact
from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_tasks import cancel_tasks, lock_task, record_outcome
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


def _about_lead(dealer_id: str, lead_id: str) -> repo.TaskSelection:
    return repo.TaskSelection(dealer_id, related=(RecordKind.LEAD.value, lead_id))


async def on_lead_created(uc: Uc, lead: LeadFacts, contact: ContactSnapshot | None) -> None:
    """First-contact task per the channel's SLA, its watches and the thank-you message."""
    await remember_contact(uc, lead.dealer_id, lead.customer_id, contact, lead.created_at)
    policy = await uc.policy(lead.dealer_id)
    await apply_plan(uc, domain.plan_first_contact(lead, policy, uc.now), contact)


async def on_lead_contacted(uc: Uc, contact: LeadContactFacts) -> TaskRow | None:
    """A recorded contact closes the open first-contact task (and stops its watches)."""
    task = await lock_task(uc, contact.dealer_id, key=domain.first_contact_key(contact.lead_id))
    if task is None or not task.is_open:
        return None
    return await record_outcome(
        uc,
        task,
        outcome=task_outcome_of_contact(contact.outcome),
        note="First contact recorded in the lead's contact log.",
        completed_by=contact.consultant_id,
        completed_at=contact.contacted_at.astimezone(UTC),
    )


async def on_lead_assigned(uc: Uc, assignment: LeadAssignmentFacts) -> None:
    """A (re)assigned lead's open consultant tasks (first contact, follow-ups, re-grade
    prompt) follow the lead; the managers' escalation tasks stay where they are."""
    await repo.reassign_open_tasks(
        uc.conn,
        _about_lead(assignment.dealer_id, assignment.lead_id),
        StaffRole.CONSULTANT.value,
        assignment.consultant_id,
        uc.now,
    )


async def on_lead_graded(uc: Uc, grade: LeadGradeFacts) -> None:
    """The new grade's follow-up call (and, for H, the re-grade prompt) replace the open
    follow-up tasks of the earlier grade; a grade without a cadence only cancels them.

    A grade older than the newest one seen for the lead (redelivered or republished after
    it) changes nothing; the same grade again plans the same keys, so nothing doubles.
    """
    if not await repo.record_lead_grade(
        uc.conn, grade.dealer_id, grade.lead_id, grade.grade, grade.graded_at
    ):
        return
    policy = await uc.policy(grade.dealer_id)
    planned = domain.plan_grade_follow_up(grade, policy)
    keep = [task.key for task in planned]
    for prefix in domain.grade_follow_up_prefixes(grade.lead_id):
        earlier = repo.TaskSelection(grade.dealer_id, key_prefix=prefix, except_keys=keep)
        await cancel_tasks(uc, earlier, TaskCancelReason.SUPERSEDED)
    await apply_plan(uc, planned, None)


async def on_appointment_scheduled(
    uc: Uc, appointment: AppointmentFacts, contact: ContactSnapshot, booked_at: datetime
) -> None:
    """Customer reminders before the appointment (24 h and 2 h by default), each planned
    once and sent through the contact policy when it falls due."""
    await remember_contact(uc, appointment.dealer_id, appointment.customer_id, contact, booked_at)
    policy = await uc.policy(appointment.dealer_id)
    await apply_plan(uc, domain.plan_appointment_reminders(appointment, policy, uc.now), contact)


async def on_lead_closed(uc: Uc, closed: LeadClosedFacts) -> None:
    """A lost or converted lead needs no first contact or follow-up any more: its open
    tasks go (with their timers and watches)."""
    about = _about_lead(closed.dealer_id, closed.lead_id)
    await cancel_tasks(uc, about, TaskCancelReason.LEAD_CLOSED)
