"""The showroom's events touch the customer's lead (from the sales topic).

- ShowroomVisitRecorded: a walk-in lead when the visitor has no open lead, else a touch
  on it, both through the submission rules (``usecases_submission``: de-duplication by
  phone, the consultant who received the visitor assigned to a new lead). The visit is
  one submission (``sales-visit:<visit_id>``): sales publishes the visit again when the
  needs analysis or the departure is recorded, and those change the lead only through
  the needs, which feed its interest (use, body type, budget, purchase horizon: the
  showroom's word is the latest) with a LeadUpdated naming the interest fields.
- QuoteIssued: a touch on the lead (LeadUpdated, reason new_touch).
- TestDriveCompleted: a touch, and the re-grade prompt: the lead is due for contact now
  (``next_contact_at``), so it heads the consultant's worklist until a contact is logged
  with the new grade.

The lead is the one the event names (ours), else the customer's open lead; a closed lead
(D, F) or none changes nothing. Redeliveries are the inbox's to drop.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import LeadChannel, LeadSource, LeadUpdateReason
from dealerflow.contracts.events.leads import LeadInterest, LeadUpdated
from dealerflow.contracts.events.sales import VisitNeeds
from dealerflow.contracts.inbound import LeadSubmission
from dealerflow.leads import repository as repo
from dealerflow.leads.domain import CLOSED_GRADES
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.usecases import Uc
from dealerflow.leads.usecases_submission import SubmitLead, submit_lead

_LOG = logging.getLogger("dealerflow.leads.usecases")


@dataclass(frozen=True)
class RecordShowroomVisit:
    """A showroom visit as sales registered it (ShowroomVisitRecorded)."""

    dealer_id: str
    visit_id: str
    consultant_id: str
    arrived_at: datetime
    contact: ContactSnapshot
    needs: VisitNeeds | None = None


@dataclass(frozen=True)
class SalesTouch:
    """A showroom step with the customer (a quote, a test drive)."""

    dealer_id: str
    customer_id: uuid.UUID
    #: the lead the event names, if it is one of ours
    lead_id: uuid.UUID | None
    #: the step asks the consultant to re-grade the lead (a completed test drive)
    prompt_regrade: bool = False


def _live(lead: LeadRecord) -> bool:
    """Open to touches: neither closed (D, F) nor merged into another lead."""
    return lead.grade not in CLOSED_GRADES and lead.merged_into is None


def visit_submission_id(visit_id: str) -> str:
    """The submission id of a visit (its republications are the same submission)."""
    return f"sales-visit:{visit_id}"


def interest_with_needs(
    interest: LeadInterest, needs: VisitNeeds
) -> tuple[LeadInterest, list[str]]:
    """The lead's interest after the visit's needs analysis, and the fields it changed
    (``interest.<name>``); what the analysis leaves open stays as it was."""
    wanted = {
        "use": needs.use,
        "vehicle_type": needs.body_type,
        "budget_max": needs.budget,
        "purchase_horizon": needs.urgency,
    }
    updates = {k: v for k, v in wanted.items() if v is not None and getattr(interest, k) != v}
    return interest.model_copy(update=updates), [f"interest.{name}" for name in updates]


def _submission(cmd: RecordShowroomVisit, phone: str) -> LeadSubmission:
    contact = cmd.contact
    return LeadSubmission.model_validate(
        {
            "submission_id": visit_submission_id(cmd.visit_id),
            "dealer_id": cmd.dealer_id,
            "requested_at": cmd.arrived_at,
            "channel": LeadChannel.WALK_IN,
            "source": LeadSource.SHOWROOM,
            "customer": {
                "name": contact.name,
                "phones": [phone],
                "email": contact.email,
                "preferred_contact": contact.preferred_channel,
                "locale": contact.locale,
                "marketing_consent": contact.consent.marketing,
            },
        }
    )


async def record_showroom_visit(uc: Uc, cmd: RecordShowroomVisit) -> LeadRecord | None:
    """The visitor's lead after the visit (new or touched, its interest fed by the
    needs); None when the visitor cannot be reached (an erased contact) or the lead the
    visit went to is closed since."""
    phone = cmd.contact.phone
    if phone is None:
        _LOG.info("visit %s: no phone to find the visitor's lead by", cmd.visit_id)
        return None
    seen = await repo.find_submission(uc.conn, cmd.dealer_id, visit_submission_id(cmd.visit_id))
    if seen is None:
        result = await submit_lead(
            uc, SubmitLead(_submission(cmd, phone), consultant_id=cmd.consultant_id)
        )
        lead_id = result.lead_id
    else:
        lead_id = seen.lead_id  # the visit again, with its needs or its departure
    lead = await repo.get_lead(uc.conn, cmd.dealer_id, lead_id, for_update=True)
    if lead is None or not _live(lead) or cmd.needs is None:
        return lead
    interest, changed = interest_with_needs(lead.interest, cmd.needs)
    if not changed:
        return lead
    lead = replace(lead, interest=interest, updated_at=uc.now)
    await repo.save_lead(uc.conn, lead)
    await _publish_update(uc, lead, changed, interest=interest)
    return lead


async def record_sales_touch(uc: Uc, cmd: SalesTouch) -> LeadRecord | None:
    """A touch on the customer's lead (LeadUpdated); with ``prompt_regrade`` the lead is
    due for contact now. None when there is no live lead."""
    lead = await repo.find_lead_for_sale(
        uc.conn, cmd.dealer_id, cmd.customer_id, lead_id=cmd.lead_id
    )
    if lead is None or not _live(lead):
        return None
    now = uc.now
    lead = replace(lead, last_touch_at=now, touch_count=lead.touch_count + 1, updated_at=now)
    changed = ["last_touch_at"]
    if cmd.prompt_regrade and (lead.next_contact_at is None or lead.next_contact_at > now):
        lead = replace(lead, next_contact_at=now)
        changed.append("next_contact_at")
    await repo.save_lead(uc.conn, lead)
    await _publish_update(uc, lead, changed)
    return lead


async def _publish_update(
    uc: Uc, lead: LeadRecord, changed: list[str], *, interest: LeadInterest | None = None
) -> None:
    await uc.publish(
        LeadUpdated(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            reason=LeadUpdateReason.NEW_TOUCH,
            changed_fields=changed,
            touch_channel=LeadChannel.WALK_IN,
            touch_source=LeadSource.SHOWROOM,
            interest=interest,
            updated_at=uc.now,
        )
    )
