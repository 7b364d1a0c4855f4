"""Complaints the system opens (or reopens) by itself, and the contact directory that
lets it reach the customer.

- A callback task completed as dissatisfied opens a complaint (channel callback/survey,
  origin = the task); a survey scored at or below the dealer's threshold opens one
  (origin = the survey); a failed quality check that reached the customer opens one.
  Each trigger opens at most one complaint (unique origin per dealer), however often it
  is delivered or re-published under new event ids.
- A dissatisfied complaint-verification callback or survey about a resolved/closed
  complaint reopens that complaint instead (once per trigger); a satisfied verification
  callback about a resolved complaint closes it, confirmed by the customer (once per
  trigger; by the staff member who recorded the outcome).
- Events that carry a contact snapshot (leads, sales, service) keep the latest snapshot
  per customer; ConsentChanged refreshes its consent. An automatic complaint takes the
  contact from its triggering event when that event carries one, else from this
  directory; with neither, a consumed trigger waits for the contact (`usecases_contact_wait`),
  and one not consumed from Kafka (``consumed`` None) raises `ContactUnknown`.
- An erased customer (the directory's contact is the erased one, see `usecases_erasure`)
  gets no free text back from a late trigger: its complaint opens with "(erased)" as
  summary and details, and a reopening of an erased complaint records "(erased)".
"""

from __future__ import annotations

import uuid

from dealerflow.complaints import repository, repository_contacts, usecases_contact_wait
from dealerflow.complaints.domain import (
    ComplaintStatus,
    IllegalTransition,
    should_open_complaint_from_quality_check,
    should_open_complaint_from_survey,
    should_open_complaint_from_task,
)
from dealerflow.complaints.domain_erasure import ERASED_TEXT, erased_text
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.repository_contacts import ContactSeen
from dealerflow.complaints.usecases import ContactUnknown, NewComplaint, Run, Uc, open_complaint
from dealerflow.complaints.usecases_actions import CloseComplaint, ReopenComplaint, close, reopen
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    Department,
    RecordKind,
    SurveyKind,
    TaskKind,
    TaskOutcome,
)
from dealerflow.contracts.contact import ContactSnapshot, RelatedRecord, with_consent_change
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintOrigin
from dealerflow.contracts.events.notifier import ConsentChanged, SurveyResponded, TaskCompleted
from dealerflow.contracts.events.service import QualityCheckFailed
from dealerflow.runtime.consumer import HandlerContext

__all__ = ["ContactUnknown"]  # raised here, defined with the other domain errors

_TASK_CATEGORY = {
    TaskKind.DELIVERY_CALLBACK: ComplaintCategory.SALES_SERVICE,
    TaskKind.SATISFACTION_CALLBACK: ComplaintCategory.SALES_SERVICE,
    TaskKind.LEAD_FIRST_CONTACT: ComplaintCategory.SALES_SERVICE,
    TaskKind.LEAD_FOLLOW_UP: ComplaintCategory.SALES_SERVICE,
    TaskKind.SERVICE_CALLBACK: ComplaintCategory.AFTER_SALES_SERVICE,
    TaskKind.DECLINED_REPAIR_FOLLOW_UP: ComplaintCategory.AFTER_SALES_SERVICE,
    TaskKind.RETENTION_CALL: ComplaintCategory.AFTER_SALES_SERVICE,
}
_SURVEY_CATEGORY = {
    SurveyKind.DELIVERY_SATISFACTION: ComplaintCategory.SALES_SERVICE,
    SurveyKind.SERVICE_SATISFACTION: ComplaintCategory.AFTER_SALES_SERVICE,
}
_DEPARTMENT = {
    ComplaintCategory.SALES_SERVICE: Department.SALES,
    ComplaintCategory.AFTER_SALES_SERVICE: Department.AFTER_SALES,
    ComplaintCategory.PRODUCT_QUALITY: Department.AFTER_SALES,
    ComplaintCategory.OTHER: Department.CUSTOMER_RELATIONS,
}
_RELATED_CATEGORY = {
    RecordKind.REPAIR_ORDER: ComplaintCategory.AFTER_SALES_SERVICE,
    RecordKind.SERVICE_APPOINTMENT: ComplaintCategory.AFTER_SALES_SERVICE,
    RecordKind.CONTRACT: ComplaintCategory.SALES_SERVICE,
    RecordKind.DELIVERY: ComplaintCategory.SALES_SERVICE,
}


def category_for_task(kind: TaskKind, related: RelatedRecord | None = None) -> ComplaintCategory:
    """What a dissatisfied callback is about: sales after a delivery callback, after-sales
    after a service callback, else by the related record, else other."""
    if kind in _TASK_CATEGORY:
        return _TASK_CATEGORY[kind]
    if related is not None and related.kind in _RELATED_CATEGORY:
        return _RELATED_CATEGORY[related.kind]
    return ComplaintCategory.OTHER


def category_for_survey(
    kind: SurveyKind, related: RelatedRecord | None = None
) -> ComplaintCategory:
    """What a low survey score is about (same idea as `category_for_task`)."""
    if kind in _SURVEY_CATEGORY:
        return _SURVEY_CATEGORY[kind]
    if related is not None and related.kind in _RELATED_CATEGORY:
        return _RELATED_CATEGORY[related.kind]
    return ComplaintCategory.OTHER


def department_for(category: ComplaintCategory) -> Department:
    """The department an automatic complaint is routed to first."""
    return _DEPARTMENT[category]


def origin_links(related: RelatedRecord | None) -> dict[str, str]:
    """ComplaintOrigin link fields for the record a task or survey was about."""
    if related is None:
        return {}
    if related.kind is RecordKind.CONTRACT:
        return {"contract_id": related.id}
    if related.kind is RecordKind.REPAIR_ORDER:
        return {"repair_order_id": related.id}
    return {}


def verified_complaint(verification: bool, related: RelatedRecord | None) -> uuid.UUID | None:
    """The complaint a dissatisfied verification callback/survey is about, if any."""
    if not verification or related is None or related.kind is not RecordKind.COMPLAINT:
        return None
    try:
        return uuid.UUID(related.id)
    except ValueError:
        return None


def summary_text(text: str, limit: int = 500) -> str:
    """``text`` cut to the contracts' summary length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def contact_for(uc: Uc, event: DomainEvent) -> ContactSnapshot:
    """The contact of the event's customer: carried by the event, else the directory."""
    carried = getattr(event, "contact", None)
    if isinstance(carried, ContactSnapshot):
        return carried
    stored = await repository_contacts.contact_of(uc.conn, event.dealer_id, event.customer_id)
    if stored is None:
        raise ContactUnknown(
            f"no contact snapshot known for customer {event.customer_id} at dealer "
            f"{event.dealer_id}: cannot open a complaint for {event.event_type}; replay this "
            "event once an event with the customer's contact has been consumed"
        )
    return stored


async def _open_automatic(
    uc: Uc,
    event: DomainEvent,
    *,
    category: ComplaintCategory,
    channel: ComplaintChannel,
    summary: str,
    details: str | None,
    origin: ComplaintOrigin,
    origin_ref: str,
    consumed: HandlerContext | None,
) -> ComplaintRecord | None:
    existing = await repository.find_by_origin(uc.conn, event.dealer_id, origin_ref)
    if existing is not None:
        return None  # this trigger opened its complaint already
    try:
        contact = await contact_for(uc, event)
    except ContactUnknown:
        if consumed is None:
            raise
        await usecases_contact_wait.park(uc, event, origin_ref, consumed)
        return None
    if contact.erased:  # a trigger of before the erasure, consumed after it
        summary, details = ERASED_TEXT, erased_text(details)
    new = NewComplaint(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        channel=channel,
        category=category,
        summary=summary_text(summary),
        details=details,
        contact=contact,
        origin=origin,
        origin_ref=origin_ref,
        department=department_for(category).value,
    )
    opened = await open_complaint(uc, new)
    return opened.complaint if opened.created else None


async def _reopen_verified(
    uc: Uc, event: DomainEvent, complaint_id: uuid.UUID, trigger_ref: str, reason: str
) -> bool:
    """Reopen the verified complaint; False when it is not this dealer's (open a new one)."""
    target = await repository.get_complaint(uc.conn, event.dealer_id, complaint_id)
    if target is None:
        return False
    if target.contact.get("erased"):  # the customer was erased: their words are not kept
        reason = ERASED_TEXT
    if target.status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        try:
            cmd = ReopenComplaint(
                event.dealer_id, complaint_id, reason=reason, trigger_ref=trigger_ref
            )
            await reopen(uc, cmd)
        except IllegalTransition:  # pragma: no cover - status checked under the lock above
            return True
    return True  # still being handled: nothing to reopen


async def _close_verified(
    uc: Uc, event: TaskCompleted, complaint_id: uuid.UUID | None, trigger_ref: str
) -> None:
    """The customer confirmed the resolution on the verification callback: close it (a
    complaint of another dealer, or one not resolved any more, is left as it is)."""
    if complaint_id is None:
        return
    target = await repository.get_complaint(uc.conn, event.dealer_id, complaint_id)
    if target is None or target.status != ComplaintStatus.RESOLVED:
        return
    cmd = CloseComplaint(
        event.dealer_id,
        complaint_id,
        customer_confirmed=True,
        closed_by=event.assignee_id,
        trigger_ref=trigger_ref,
    )
    await close(uc, cmd)


async def on_task_completed(
    uc: Uc, event: TaskCompleted, consumed: HandlerContext | None = None
) -> ComplaintRecord | None:
    """A dissatisfied callback: reopen the verified complaint or open a new one; a
    satisfied verification callback closes the verified complaint."""
    ref = f"task:{event.task_id}"
    verification = event.kind is TaskKind.COMPLAINT_VERIFICATION
    if verification and event.outcome is TaskOutcome.SATISFIED:
        await _close_verified(uc, event, verified_complaint(True, event.related), ref)
        return None
    if not should_open_complaint_from_task(event.outcome):
        return None
    reason = event.note or "The customer was dissatisfied on the verification callback."
    target = verified_complaint(verification, event.related)
    if target is not None and await _reopen_verified(uc, event, target, ref, reason):
        return None
    kind = event.kind.value.replace("_", " ")
    return await _open_automatic(
        uc,
        event,
        category=category_for_task(event.kind, event.related),
        channel=ComplaintChannel.CALLBACK_SURVEY,
        summary=f"Customer dissatisfied on {kind} task",
        details=event.note,
        origin=ComplaintOrigin(
            kind=ComplaintOriginKind.DISSATISFIED_CALLBACK,
            task_id=event.task_id,
            **origin_links(event.related),
        ),
        origin_ref=ref,
        consumed=consumed,
    )


async def on_survey_responded(
    uc: Uc, event: SurveyResponded, consumed: HandlerContext | None = None
) -> ComplaintRecord | None:
    """A low survey score: reopen the verified complaint or open a new one."""
    policy = await uc.policy(event.dealer_id)
    if not should_open_complaint_from_survey(event.score, policy):
        return None
    ref = f"survey:{event.survey_id}"
    reason = event.comment or f"The customer scored the resolution {event.score}."
    target = verified_complaint(event.kind is SurveyKind.COMPLAINT_VERIFICATION, event.related)
    if target is not None and await _reopen_verified(uc, event, target, ref, reason):
        return None
    return await _open_automatic(
        uc,
        event,
        category=category_for_survey(event.kind, event.related),
        channel=ComplaintChannel.CALLBACK_SURVEY,
        summary=f"Survey scored {event.score} ({event.kind.value.replace('_', ' ')})",
        details=event.comment,
        origin=ComplaintOrigin(
            kind=ComplaintOriginKind.LOW_SURVEY_SCORE,
            survey_id=event.survey_id,
            survey_score=event.score,
            **origin_links(event.related),
        ),
        origin_ref=ref,
        consumed=consumed,
    )


async def on_quality_check_failed(
    uc: Uc, event: QualityCheckFailed, consumed: HandlerContext | None = None
) -> ComplaintRecord | None:
    """A failed quality check the customer found opens an after-sales complaint."""
    if not should_open_complaint_from_quality_check(True, event.reached_customer):
        return None
    return await _open_automatic(
        uc,
        event,
        category=ComplaintCategory.AFTER_SALES_SERVICE,
        channel=ComplaintChannel.SYSTEM,
        summary="Failed quality check reached the customer: " + "; ".join(event.reasons),
        details=None,
        origin=ComplaintOrigin(
            kind=ComplaintOriginKind.FAILED_QUALITY_CHECK, repair_order_id=event.repair_order_id
        ),
        origin_ref=f"quality_check:{event.repair_order_id}:{event.attempt}",
        consumed=consumed,
    )


async def remember_contacts(run: Run[DomainEvent]) -> None:
    """Keep the contact snapshots of a run of events (each customer's newest, if newer
    than the stored one) with one statement, then open the complaints that were waiting
    for these customers' contacts (taken with one statement), each in the context of its
    customer's first event of the run, as that event alone would have."""
    seen: list[ContactSeen] = []
    first: dict[tuple[str, uuid.UUID], Uc] = {}
    for uc, event in run:
        contact = getattr(event, "contact", None)
        if not isinstance(contact, ContactSnapshot):
            continue  # an optional contact not given
        seen.append(
            ContactSeen(
                dealer_id=event.dealer_id,
                customer_id=event.customer_id,
                contact=contact,
                observed_at=event.occurred_at,
                source_type=event.event_type,
            )
        )
        first.setdefault((event.dealer_id, event.customer_id), uc)
    if not seen:
        return
    any_uc = run[0][0]  # the run's contexts share the batch's connection
    await repository_contacts.upsert_contacts(any_uc.conn, seen)
    waiting = await usecases_contact_wait.take_for_customers(any_uc, list(first))
    for customer, uc in first.items():
        for trigger in waiting.get(customer, []):
            await run_trigger(uc, trigger)


async def run_trigger(uc: Uc, event: DomainEvent) -> ComplaintRecord | None:
    """Run the automatic-complaint rule of a (parked) triggering event."""
    if isinstance(event, TaskCompleted):
        return await on_task_completed(uc, event)
    if isinstance(event, SurveyResponded):
        return await on_survey_responded(uc, event)
    if isinstance(event, QualityCheckFailed):
        return await on_quality_check_failed(uc, event)
    raise TypeError(f"{event.event_type} is not a complaint trigger")


async def contact_wait_over(uc: Uc, dealer_id: str, trigger_ref: str) -> None:
    """A parked trigger's wait ran out: open the complaint if the contact is known by
    now, else dead-letter the trigger with the reason."""
    parked = await usecases_contact_wait.take(uc, dealer_id, trigger_ref)
    if parked is None:
        return  # opened meanwhile
    event = usecases_contact_wait.restore(parked)
    if await repository_contacts.contact_of(uc.conn, dealer_id, event.customer_id):
        await run_trigger(uc, event)
    else:
        await usecases_contact_wait.dead_letter(uc, parked)


async def apply_consent_change(uc: Uc, event: ConsentChanged) -> bool:
    """Refresh the stored snapshot's consent; False when no snapshot is stored."""
    stored = await repository_contacts.contact_of(
        uc.conn, event.dealer_id, event.customer_id, for_update=True
    )
    if stored is None:
        return False
    updated = with_consent_change(
        stored,
        purpose=event.purpose,
        channel=event.channel,
        granted=event.granted,
    )
    await repository_contacts.set_contact(uc.conn, event.dealer_id, event.customer_id, updated)
    return True
