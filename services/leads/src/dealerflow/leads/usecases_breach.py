"""Reassigning a lead whose first contact was missed again (TaskDue from the notifier).

The notifier owns the first-contact SLA; at the dealer's reassign watch it publishes the
first-contact task's TaskDue with ``breaches`` = ``reassign_after_breaches``. Leads then
reassigns the lead to the next consultant on duty other than the current one, by the
dealer's assignment strategy (round robin or open load): LeadAssigned reason
``sla_breach``, ``assigned_by`` "system", and the notifier moves the open tasks and tells
both consultants. With nobody else on duty the lead stays and it is logged (the sales
manager has the notifier's reassign task). Once per task (``task_reactions``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import TaskKind
from dealerflow.contracts.enums import AssignmentReason
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_tasks as tasks
from dealerflow.leads.domain_tasks import reassigns_lead
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.usecases import (
    STATUS_BY_GRADE,
    AssignLead,
    NoConsultantOnDuty,
    Uc,
    assign_lead,
)

_LOG = logging.getLogger("dealerflow.leads.usecases")

#: Who ``assigned_by`` names for a reassignment nobody asked for.
SYSTEM = "system"


@dataclass(frozen=True)
class ReportBreach:
    """A notifier task open past its due time (TaskDue)."""

    dealer_id: str
    task_id: str
    task_kind: str
    #: the lead the task is about (None: about something else, or not one of ours)
    lead_id: uuid.UUID | None
    breaches: int
    #: who the task was with when it breached, and its due time
    assignee_id: str | None = None
    due_at: datetime | None = None


async def record_breach(uc: Uc, cmd: ReportBreach) -> bool:
    """Keep a lead's first-contact breach for the sales manager's board (by the consultant
    it was with); False for other tasks and for a breach recorded already."""
    if cmd.lead_id is None or cmd.task_kind != TaskKind.LEAD_FIRST_CONTACT or cmd.due_at is None:
        return False
    return await tasks.record_breach(
        uc.conn, cmd.dealer_id, cmd.task_id, cmd.breaches, cmd.lead_id, cmd.assignee_id, cmd.due_at
    )


async def reassign_after_breach(uc: Uc, cmd: ReportBreach) -> LeadRecord | None:
    """The lead of a first-contact task missed ``reassign_after_breaches`` times goes to
    the next consultant on duty; the lead after it (None: nothing to reassign)."""
    policy = await uc.policy(cmd.dealer_id)
    limit = policy.leads.reassign_after_breaches
    lead_id = cmd.lead_id
    if lead_id is None or not reassigns_lead(cmd.task_kind, cmd.breaches, limit):
        return None
    lead = await repo.get_lead(uc.conn, cmd.dealer_id, lead_id, for_update=True)
    if lead is None or STATUS_BY_GRADE[lead.grade] != "open":
        return None  # unknown here, or converted, delivered or lost meanwhile
    if not await tasks.claim_reaction(
        uc.conn, cmd.dealer_id, cmd.task_id, "reassigned", lead_id, uc.now
    ):
        return None  # this breach moved the lead already
    try:
        return await assign_lead(
            uc,
            AssignLead(
                cmd.dealer_id, lead_id, assigned_by=SYSTEM, reason=AssignmentReason.SLA_BREACH
            ),
        )
    except NoConsultantOnDuty:
        _LOG.warning(
            "lead %s missed its first contact %d times but nobody else is on duty: it stays "
            "with %s",
            lead_id,
            cmd.breaches,
            lead.consultant_id,
        )
        return lead
