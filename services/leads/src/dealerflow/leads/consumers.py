"""What the leads service consumes: other contexts' events and raw lead submissions.

- Topic ``<prefix>sales`` (CloudEvents, an :class:`EventRouter`): ContractSigned -> the
  customer's lead becomes grade O, VehicleDelivered -> grade D, from any producer (an
  outside DMS too), see ``usecases_lifecycle``; ContractCancelled -> the lead the contract
  converted goes back from O to a live grade, see ``usecases_review``;
  ShowroomVisitRecorded -> a walk-in lead or a touch, the needs feeding the interest;
  QuoteIssued -> a touch; TestDriveCompleted -> a touch and the re-grade prompt, see
  ``usecases_sales_touch``.
- Topic ``<prefix>notifier`` (CloudEvents, the same router): TaskDue of a lead's
  first-contact task -> the breach is kept for the board, and at the dealer's
  reassign_after_breaches-th breach the lead goes to the next on-duty consultant, see
  ``usecases_breach``; TaskCompleted of a lead's
  call task (first contact, follow-up, re-grade) -> a phone contact in the lead's contact
  log, see ``usecases_task_contact``; ConsentChanged -> the consent in the contact
  snapshots of the customer's leads is refreshed, see ``usecases_consent``.
- Topic ``<prefix>inbound.leads`` (JSON or ADF XML documents from lead providers, not
  CloudEvents): the runtime's raw-record consumer (:mod:`dealerflow.runtime.raw_consumer`)
  with :func:`on_inbound_record`. A document that cannot be read or that the rules refuse
  is dead-lettered at once with the reason; the inbox key is a content hash, so a
  provider resending the same document changes nothing.

Inbound record headers read (all optional): ``content-type`` (else the body is sniffed),
``dealer-id`` (or ``ce_dealerid``; used when the body names no dealer), ``dealer-group``,
``consultant-id``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from dealerflow.contracts.care_enums import RecordKind
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.notifier import ConsentChanged, TaskCompleted, TaskDue
from dealerflow.contracts.events.sales import (
    ContractCancelled,
    ContractSigned,
    QuoteIssued,
    ShowroomVisitRecorded,
    TestDriveCompleted,
    VehicleDelivered,
)
from dealerflow.contracts.inbound import LeadSubmissionError, parse_lead_submissions
from dealerflow.leads.problems import PROBLEMS
from dealerflow.leads.usecases_breach import ReportBreach, reassign_after_breach, record_breach
from dealerflow.leads.usecases_consent import refresh_lead_consent
from dealerflow.leads.usecases_lifecycle import (
    RecordSale,
    record_contract_signed,
    record_delivery,
)
from dealerflow.leads.usecases_review import RecordCancellation, record_contract_cancelled
from dealerflow.leads.usecases_sales_touch import (
    RecordShowroomVisit,
    SalesTouch,
    record_sales_touch,
    record_showroom_visit,
)
from dealerflow.leads.usecases_submission import SubmitLead, submit_lead
from dealerflow.leads.usecases_task_contact import LogTaskContact, log_task_contact
from dealerflow.runtime.consumer import EventRouter, HandlerContext, time_out_of_bounds
from dealerflow.runtime.raw_consumer import RecordContext, raw_record_processor, record_header
from dealerflow.runtime.storable import first_unstorable, unstorable_reason

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

router = EventRouter()


def _our_lead_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None  # another system's lead id: not one of ours


def _lead_of(related: RelatedRecord | None) -> uuid.UUID | None:
    """Our lead a notifier task is about (None: about another record)."""
    if related is None or related.kind is not RecordKind.LEAD:
        return None
    return _our_lead_id(related.id)


@router.on(ContractSigned)
async def on_contract_signed(ctx: HandlerContext, env: Envelope[ContractSigned]) -> None:
    e = env.event
    lead_id = _our_lead_id(e.lead_id)
    sale = RecordSale(e.dealer_id, e.customer_id, e.contract_id, lead_id, e.occurred_at)
    await record_contract_signed(ctx, sale)


@router.on(VehicleDelivered)
async def on_vehicle_delivered(ctx: HandlerContext, env: Envelope[VehicleDelivered]) -> None:
    e = env.event
    await record_delivery(ctx, RecordSale(e.dealer_id, e.customer_id, e.contract_id))


@router.on(ContractCancelled)
async def on_contract_cancelled(ctx: HandlerContext, env: Envelope[ContractCancelled]) -> None:
    e = env.event
    await record_contract_cancelled(ctx, RecordCancellation(e.dealer_id, e.contract_id, e.reason))


@router.on(ShowroomVisitRecorded)
async def on_showroom_visit(ctx: HandlerContext, env: Envelope[ShowroomVisitRecorded]) -> None:
    e = env.event
    visit = RecordShowroomVisit(
        e.dealer_id, e.visit_id, e.consultant_id, e.arrived_at, e.contact, e.needs
    )
    await record_showroom_visit(ctx, visit)


@router.on(QuoteIssued)
async def on_quote_issued(ctx: HandlerContext, env: Envelope[QuoteIssued]) -> None:
    e = env.event
    await record_sales_touch(ctx, SalesTouch(e.dealer_id, e.customer_id, _our_lead_id(e.lead_id)))


@router.on(TestDriveCompleted)
async def on_test_drive_completed(ctx: HandlerContext, env: Envelope[TestDriveCompleted]) -> None:
    e = env.event
    touch = SalesTouch(e.dealer_id, e.customer_id, _our_lead_id(e.lead_id), prompt_regrade=True)
    await record_sales_touch(ctx, touch)


@router.on(ConsentChanged)
async def on_consent_changed(ctx: HandlerContext, env: Envelope[ConsentChanged]) -> None:
    await refresh_lead_consent(ctx, env.event)


@router.on(TaskDue)
async def on_task_due(ctx: HandlerContext, env: Envelope[TaskDue]) -> None:
    e = env.event
    breach = ReportBreach(
        e.dealer_id,
        e.task_id,
        e.kind.value,
        _lead_of(e.related),
        e.breaches,
        assignee_id=e.assignee_id,
        due_at=e.due_at,
    )
    await record_breach(ctx, breach)
    await reassign_after_breach(ctx, breach)


@router.on(TaskCompleted)
async def on_task_completed(ctx: HandlerContext, env: Envelope[TaskCompleted]) -> None:
    e = env.event
    call = LogTaskContact(
        dealer_id=e.dealer_id,
        task_id=e.task_id,
        task_kind=e.kind.value,
        lead_id=_lead_of(e.related),
        consultant_id=e.assignee_id,
        outcome=e.outcome,
        note=e.note,
        completed_at=e.completed_at,
    )
    await log_task_contact(ctx, call)


# --- raw lead submissions -------------------------------------------------------------

H_CONTENT_TYPE = "content-type"
H_DEALER = ("dealer-id", "ce_dealerid")
H_GROUP = "dealer-group"
H_CONSULTANT = "consultant-id"


def inbox_key(record: ConsumerRecord[Any, Any]) -> str:
    """Content hash of what determines the outcome: the body and the headers we read."""
    digest = hashlib.sha256()
    for names in ((H_CONTENT_TYPE,), H_DEALER, (H_GROUP,), (H_CONSULTANT,)):
        digest.update((record_header(record, *names) or "").encode() + b"\x00")
    digest.update(record.value or b"")
    return "sha256:" + digest.hexdigest()


async def on_inbound_record(ctx: RecordContext, record: ConsumerRecord[Any, Any]) -> None:
    """Record every prospect of the document; an ADF document may hold several, and the
    record is one unit: all of them are recorded, or it is dead-lettered as a whole."""
    submissions = parse_lead_submissions(
        record.value or b"",
        ctx.header(H_CONTENT_TYPE) or "",
        default_region=ctx.settings.default_region,
        dealer_id=ctx.header(*H_DEALER),
    )
    for submission in submissions:
        # Refused before any write, with where: PostgreSQL's own refusal names no field.
        if (where := first_unstorable(submission.model_dump(), "submission")) is not None:
            raise LeadSubmissionError(unstorable_reason(where))
        if submission.requested_at is not None and (
            implausible := time_out_of_bounds(
                "requested_at", submission.requested_at, ctx.clock.now(), ctx.settings
            )
        ):
            raise LeadSubmissionError(implausible)
        cmd = SubmitLead(submission, ctx.header(H_GROUP), ctx.header(H_CONSULTANT))
        await submit_lead(ctx, cmd)


#: The ``Subscription.processor`` of the inbound topic: an unreadable document
#: (LeadSubmissionError) or one a domain rule refuses is dead-lettered without retries.
inbound_processor = raw_record_processor(
    on_inbound_record, key=inbox_key, refusals=(LeadSubmissionError, *PROBLEMS)
)
