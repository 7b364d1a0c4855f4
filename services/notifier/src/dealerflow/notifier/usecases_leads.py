"""Reactions to the leads topic: the first-contact task and its watches, the lead's
follow-up cadence (its grade, the next contact agreed in a logged contact, a declined
invitation until the customer re-engages), appointment reminders, closing a lead's tasks
and the manager's review of a lost lead.

Same conventions as `usecases`: one ``UseCaseContext`` (``uc``), facts mapped by the
consumers, pure planners from ``domain*``, and stable business keys so a redelivered or
repeated event changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, TaskCancelReason
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import LeadUpdateReason
from dealerflow.notifier import domain, domain_leads, usecases_tiers
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_leads as leads_repo
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
from dealerflow.notifier.domain_tiers import ReferralFacts
from dealerflow.notifier.domain_types import (
    InvitationDeclinedFacts,
    LeadLostFacts,
    LeadMergeFacts,
    LeadUpdateFacts,
)
from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import (
    Plan,
    apply_plan,
    apply_plans,
    remember_contact,
    remember_contacts,
    rounds_by_customer,
)
from dealerflow.notifier.usecases_tasks import cancel_tasks, lock_task, record_outcome
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


def _about_lead(dealer_id: str, lead_id: str) -> repo.TaskSelection:
    return repo.TaskSelection(dealer_id, related=(RecordKind.LEAD.value, lead_id))


@dataclass(frozen=True, slots=True)
class NewLead:
    """A LeadCreated to react to in the context ``uc`` of its event (``referral``: the
    customer who referred it, if any)."""

    uc: Uc
    lead: LeadFacts
    contact: ContactSnapshot | None
    referral: ReferralFacts | None = None


async def on_leads_created(leads: Sequence[NewLead]) -> None:
    """Per new lead (a batch of events in one transaction, each effect caused by its own
    event): the contact snapshot, the first-contact task per the channel's SLA, its
    watches and the thank-you message, with one statement per table per round
    (`usecases.rounds_by_customer`); a referral is remembered for its referrer
    (`usecases_tiers.on_referral`, rare: per lead)."""
    for batch in rounds_by_customer(leads, lambda new: new.lead):
        seen = [
            repo.ContactSeen(n.lead.dealer_id, n.lead.customer_id, n.contact, n.lead.created_at)
            for n in batch
            if n.contact is not None
        ]
        await remember_contacts(batch[0].uc, seen)
        plans = [
            Plan(
                n.uc,
                domain.plan_first_contact(n.lead, await n.uc.policy(n.lead.dealer_id), n.uc.now),
                n.contact,
            )
            for n in batch
        ]
        await apply_plans(plans)
        for n in batch:
            if n.referral is not None:
                await usecases_tiers.on_referral(n.uc, n.referral)


async def _replan_follow_up(uc: Uc, dealer_id: str, lead_id: str, reason: TaskCancelReason) -> None:
    """Bring the lead's open sales follow-ups in line with `plan_follow_up` of what is known
    of it now: open ones the plan no longer contains are cancelled (``reason``), new ones
    scheduled; the same state again changes nothing."""
    lead = await leads_repo.lead_follow_up(uc.conn, dealer_id, lead_id)
    if lead is None:
        return
    planned = domain_leads.plan_follow_up(lead, await uc.policy(dealer_id))
    keep = [task.key for task in planned]
    for prefix in domain.grade_follow_up_prefixes(lead_id):
        earlier = repo.TaskSelection(dealer_id, key_prefix=prefix, except_keys=keep)
        await cancel_tasks(uc, earlier, reason)
    await apply_plan(uc, planned, None)


async def on_lead_contacted(uc: Uc, contact: LeadContactFacts) -> TaskRow | None:
    """A recorded contact closes the open first-contact task (and stops its watches), and
    re-plans the lead's next follow-up: on the date agreed in it, else one cadence interval
    of the grade after it. Returns the first-contact task it closed.

    When the contact changed the grade, the LeadGraded that leads publishes right after it
    re-plans (with this contact known): planning here for the old grade would be
    superseded at once. A contact older than the latest one known re-plans nothing.
    """
    first_contact = await _close_first_contact(uc, contact)
    newest = await leads_repo.record_contact(
        uc.conn,
        contact.dealer_id,
        contact.lead_id,
        contact.customer_id,
        consultant_id=contact.consultant_id,
        contacted_at=contact.contacted_at,
        next_contact_on=contact.next_contact_on,
    )
    if not newest:
        return first_contact
    lead = await leads_repo.lead_follow_up(uc.conn, contact.dealer_id, contact.lead_id)
    known_grade = (lead.grade if lead else None) or "N"
    if contact.grade_after in (None, known_grade):
        await _replan_follow_up(uc, contact.dealer_id, contact.lead_id, TaskCancelReason.SUPERSEDED)
    return first_contact


async def _close_first_contact(uc: Uc, contact: LeadContactFacts) -> TaskRow | None:
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
    prompt) follow the lead, and so do the follow-ups planned later; the managers'
    escalation tasks stay where they are."""
    dealer_id, lead_id = assignment.dealer_id, assignment.lead_id
    await leads_repo.set_consultant(uc.conn, dealer_id, lead_id, assignment.consultant_id)
    await repo.reassign_open_tasks(
        uc.conn,
        _about_lead(dealer_id, lead_id),
        StaffRole.CONSULTANT.value,
        assignment.consultant_id,
        uc.now,
    )


async def on_lead_graded(uc: Uc, grade: LeadGradeFacts) -> None:
    """The new grade re-plans the lead's follow-ups (`domain_leads.plan_follow_up`): the
    grade's cadence counted from the grading (or a later contact), the date agreed at the
    latest contact, for H the re-grade prompt; open follow-ups of the earlier plan are
    superseded, and a grade without a cadence (O, D, F) only cancels them and voids the
    agreed date. A live grade after a loss (the lead reopened) makes its open lost-review
    task moot.

    A grade older than the newest one seen for the lead (redelivered or republished after
    it) changes nothing; the same grade again plans the same keys, so nothing doubles.
    """
    dealer_id, lead_id = grade.dealer_id, grade.lead_id
    if not await repo.record_lead_grade(uc.conn, dealer_id, lead_id, grade.grade, grade.graded_at):
        return
    await leads_repo.note_lead(uc.conn, dealer_id, lead_id, grade.customer_id, grade.consultant_id)
    if grade.grade in domain_leads.NO_SALES_CADENCE:
        await leads_repo.void_agreed_date(uc.conn, dealer_id, lead_id)
    else:
        review = repo.TaskSelection(dealer_id, key_prefix=domain_leads.lost_review_prefix(lead_id))
        await cancel_tasks(uc, review, TaskCancelReason.NO_LONGER_NEEDED)
    await _replan_follow_up(uc, dealer_id, lead_id, TaskCancelReason.SUPERSEDED)


async def on_invitation_declined(uc: Uc, declined: InvitationDeclinedFacts) -> None:
    """The handbook's rule: no pitching to a customer who declined the invitation. The
    lead's open sales follow-ups (follow-up calls, re-grade prompt) are cancelled
    (customer_declined) and none is planned until the customer re-engages; marketing
    messages to the customer falling due meanwhile are suppressed (NotificationSuppressed,
    policy invitation_declined, at send time: `usecases_messages.send_reminder`).

    A decline older than a re-engagement already seen (redelivered late) changes nothing.
    """
    dealer_id, lead_id = declined.dealer_id, declined.lead_id
    await leads_repo.note_lead(uc.conn, dealer_id, lead_id, declined.customer_id, None)
    if await leads_repo.record_decline(
        uc.conn, dealer_id, lead_id, declined.customer_id, declined.declined_at
    ):
        await _replan_follow_up(uc, dealer_id, lead_id, TaskCancelReason.CUSTOMER_DECLINED)


async def on_lead_updated(uc: Uc, update: LeadUpdateFacts, contact: ContactSnapshot | None) -> None:
    """Keep the lead's newer contact snapshot for the messages sent later; a re-engagement
    (reason re_engaged: a new submission, an inbound contact or a visit after a declined
    invitation) lifts the decline: the follow-ups resume, counted from the re-engagement
    (or on the date agreed at a contact after the decline), and marketing goes out again."""
    await remember_contact(uc, update.dealer_id, update.customer_id, contact, update.updated_at)
    if update.reason != LeadUpdateReason.RE_ENGAGED.value:
        return
    dealer_id, lead_id = update.dealer_id, update.lead_id
    if await leads_repo.record_reengagement(
        uc.conn, dealer_id, lead_id, update.customer_id, update.updated_at
    ):
        await _replan_follow_up(uc, dealer_id, lead_id, TaskCancelReason.SUPERSEDED)


async def on_appointment_scheduled(
    uc: Uc, appointment: AppointmentFacts, contact: ContactSnapshot, booked_at: datetime
) -> None:
    """Customer reminders before the appointment (24 h and 2 h by default), each planned
    once and sent through the contact policy when it falls due."""
    await remember_contact(uc, appointment.dealer_id, appointment.customer_id, contact, booked_at)
    policy = await uc.policy(appointment.dealer_id)
    await apply_plan(uc, domain.plan_appointment_reminders(appointment, policy, uc.now), contact)


async def on_lead_closed(uc: Uc, closed: LeadClosedFacts) -> None:
    """A converted lead needs no first contact or follow-up any more: its open tasks go
    (with their timers and watches)."""
    about = _about_lead(closed.dealer_id, closed.lead_id)
    await cancel_tasks(uc, about, TaskCancelReason.LEAD_CLOSED)


async def on_lead_lost(uc: Uc, lost: LeadLostFacts) -> None:
    """A lost lead's open tasks go, as for a converted one, and the sales manager gets the
    review task at once (`domain_leads.plan_lost_review`); a redelivered LeadLost keeps the
    review task it planned and plans no second one, and a loss older than the lead's
    reopening (a live grade after it) changes nothing."""
    known = await leads_repo.lead_follow_up(uc.conn, lost.dealer_id, lost.lead_id)
    if known is not None and known.reopened_after(lost.lost_at):
        return
    review = domain_leads.plan_lost_review(lost)
    about = repo.TaskSelection(
        lost.dealer_id, related=(RecordKind.LEAD.value, lost.lead_id), except_keys=[review.key]
    )
    await cancel_tasks(uc, about, TaskCancelReason.LEAD_CLOSED)
    await apply_plan(uc, [review], None)


async def on_lead_merged(uc: Uc, merge: LeadMergeFacts) -> dict[str, int]:
    """Duplicates merged into a surviving lead: the merged leads' first contact and sales
    cadence are superseded by the survivor's own (cancelled, with their watches); every
    other open task and scheduled reminder about them moves to the survivor, and those of
    the merged customer ids to the surviving customer. A redelivery finds nothing left to
    cancel or move."""
    for lead_id in merge.merged_lead_ids:
        for prefix in (
            domain_leads.first_contact_key(lead_id),
            *domain_leads.grade_follow_up_prefixes(lead_id),
        ):
            selected = repo.TaskSelection(merge.dealer_id, key_prefix=prefix)
            await cancel_tasks(uc, selected, TaskCancelReason.SUPERSEDED)
    return await leads_repo.move_to_survivor(
        uc.conn,
        merge.dealer_id,
        merge.merged_lead_ids,
        merge.merged_customer_ids,
        merge.lead_id,
        merge.customer_id,
        uc.now,
    )


async def on_lead_lost_reviewed(uc: Uc, dealer_id: str, lead_id: str) -> None:
    """The manager reviewed the lost lead in leads: its open lost-review task is done."""
    selected = repo.TaskSelection(dealer_id, key_prefix=domain_leads.lost_review_prefix(lead_id))
    await cancel_tasks(uc, selected, TaskCancelReason.NO_LONGER_NEEDED)
