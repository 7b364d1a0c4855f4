"""A lead's call task done in the notifier becomes a line of the lead's contact log.

TaskCompleted of a lead's first-contact, follow-up or re-grade task (from the notifier
topic) is logged as a phone contact by the task's assignee at the completion time, with
the task's outcome and note, and published as LeadContacted like a contact logged over
HTTP; the grade and the next contact date stay as they are (the consultant regrades over
HTTP). Once per task (``task_reactions``); a first-contact task the notifier completed
because of a logged contact is not logged again (``domain_tasks.logs_contact``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.enums import ContactChannel
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_tasks as tasks
from dealerflow.leads.domain import CLOSED_GRADES
from dealerflow.leads.domain_review import fit_note
from dealerflow.leads.domain_tasks import contact_outcome_of_task, logs_contact
from dealerflow.leads.records import ContactEntryRecord, LeadRecord
from dealerflow.leads.usecases import Uc
from dealerflow.leads.usecases_lifecycle import record_contact

_LOG = logging.getLogger("dealerflow.leads.usecases")


@dataclass(frozen=True)
class LogTaskContact:
    """A notifier task was completed with an outcome (TaskCompleted)."""

    dealer_id: str
    task_id: str
    task_kind: str
    #: the lead the task is about (None: about something else, or not one of ours)
    lead_id: uuid.UUID | None
    #: who completed it: the consultant who made the call
    consultant_id: str
    outcome: TaskOutcome
    note: str | None
    completed_at: datetime


async def log_task_contact(uc: Uc, cmd: LogTaskContact) -> LeadRecord | None:
    """Log the call task as a phone contact of its lead (LeadContacted); the lead after
    it, or None when the task is no call, the lead is closed, or it is logged already."""
    if cmd.lead_id is None:
        return None
    lead = await repo.get_lead(uc.conn, cmd.dealer_id, cmd.lead_id, for_update=True)
    if lead is None or lead.grade in CLOSED_GRADES:
        _LOG.info(
            "task %s: lead %s is unknown or closed, no contact logged", cmd.task_id, cmd.lead_id
        )
        return None
    if not logs_contact(cmd.task_kind, lead.last_contacted_at is not None):
        return None
    if not await tasks.claim_reaction(
        uc.conn, cmd.dealer_id, cmd.task_id, "contact_logged", lead.lead_id, uc.now
    ):
        return None  # this task is in the log already
    record = ContactEntryRecord(
        dealer_id=lead.dealer_id,
        entry_id=uuid.uuid4(),
        lead_id=lead.lead_id,
        consultant_id=cmd.consultant_id,
        contacted_at=cmd.completed_at,
        channel=str(ContactChannel.PHONE),
        outcome=str(contact_outcome_of_task(cmd.outcome)),
        grade_before=str(lead.grade),
        grade_after=str(lead.grade),
        next_contact_at=None,
        notes=fit_note(cmd.note) if cmd.note else None,
        customer_initiated=False,
        invitation_declined=False,
        recorded_at=uc.now,
    )
    lead = await record_contact(uc, lead, record, None)
    await repo.save_lead(uc.conn, lead)
    return lead
