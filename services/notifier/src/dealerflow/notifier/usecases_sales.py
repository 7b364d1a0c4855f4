"""Reactions to the sales topic's showroom events.

- ShowroomVisitRecorded of a FIRST visit: the thank-you message, at the dealer's walk-in
  thank-you time after the arrival (``leads.first_contact`` of the walk-in class,
  ``thank_you_message``: 2 h by default; none when the dealer sets none), through the
  contact policy like every customer message. Keyed by the visit
  (``visit:<visit_id>:thank-you``), so the visit published again with its needs or its
  departure plans nothing more; the walk-in lead leads creates from the visit plans no
  thank-you of its own (see the LeadCreated consumer).
- ContractSigned: the lead's sales follow-up cadence (follow-up calls, the re-grade
  prompt) is cancelled (``lead_closed``), whoever signed it; the LeadConverted that
  leads publishes after it closes the lead's other tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskCancelReason
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose, LeadChannel
from dealerflow.notifier import domain_leads
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_tasks import cancel_tasks
from dealerflow.policy import BusinessCalendar, DealerPolicy
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]

#: The submission id prefix leads gives a lead it created from a showroom visit.
VISIT_SUBMISSION_PREFIX = "sales-visit:"


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """From ShowroomVisitRecorded."""

    dealer_id: str
    customer_id: UUID
    visit_id: str
    first_visit: bool
    arrived_at: datetime
    lead_id: str | None = None


def visit_thank_you_key(visit_id: str) -> str:
    return f"visit:{visit_id}:thank-you"


def plan_visit_thank_you(
    visit: VisitFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The thank-you after a first visit (none for a return visit, or when the dealer's
    walk-in class has no thank-you message); never in the past, at an allowed send time."""
    sla = policy.leads.first_contact[policy.leads.class_of_channel(LeadChannel.WALK_IN.value)]
    if not visit.first_visit or sla.thank_you_message is None:
        return []
    calendar = BusinessCalendar(policy)
    thank_at = max(calendar.due(visit.arrived_at, sla.thank_you_message), now.astimezone(UTC))
    related = (
        RecordRef(RecordKind.LEAD, visit.lead_id)
        if visit.lead_id is not None
        else RecordRef(RecordKind.CUSTOMER, str(visit.customer_id))
    )
    return [
        PlannedReminder(
            key=visit_thank_you_key(visit.visit_id),
            kind=ReminderKind.THANK_YOU,
            dealer_id=visit.dealer_id,
            customer_id=visit.customer_id,
            send_at=calendar.next_allowed_send_time(thank_at),
            purpose=ConsentPurpose.SERVICE,
            related=related,
        )
    ]


def thanked_at_the_visit(submission_id: str | None) -> bool:
    """True for a lead leads created from a showroom visit: the visit's thank-you is the
    one the customer gets (its LeadCreated plans none)."""
    return submission_id is not None and submission_id.startswith(VISIT_SUBMISSION_PREFIX)


async def on_showroom_visit(uc: Uc, visit: VisitFacts, contact: ContactSnapshot) -> None:
    """Remember the visitor's contact; a first visit gets its thank-you message."""
    await remember_contact(uc, visit.dealer_id, visit.customer_id, contact, visit.arrived_at)
    policy = await uc.policy(visit.dealer_id)
    await apply_plan(uc, plan_visit_thank_you(visit, policy, uc.now), contact)


async def on_contract_signed(uc: Uc, dealer_id: str, lead_id: str | None) -> None:
    """The lead's open sales follow-ups are cancelled (lead_closed)."""
    if lead_id is None:
        return
    for prefix in domain_leads.grade_follow_up_prefixes(lead_id):
        selected = repo.TaskSelection(dealer_id, key_prefix=prefix)
        await cancel_tasks(uc, selected, TaskCancelReason.LEAD_CLOSED)
