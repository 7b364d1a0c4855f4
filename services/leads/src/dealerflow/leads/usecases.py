"""Use cases of the leads service: submissions, roster, assignment and queries.

Each takes the caller's connection (inside the request's or message's transaction) and a
:class:`LeadsContext`, applies the pure rules from ``domain`` and writes through
``repository``; events go to the outbox with ``lc.publish`` in the same transaction.
Refusals are :class:`~dealerflow.runtime.problems.Problem` (4xx) so the HTTP layer can
answer with them and the inbound consumer can dead-letter with their detail.
The lead lifecycle after creation is in ``usecases_lifecycle`` (contacts, loss,
conversion) and ``usecases_invitation`` (declined invitations, appointments).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from dealerflow.contracts.enums import AssignmentReason, LeadSource, LeadUpdateReason
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import LeadAssigned, LeadCreated, LeadUpdated
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.inbound import LeadSubmission as InboundSubmission
from dealerflow.leads import repository as repo
from dealerflow.leads.domain import (
    CLOSED_GRADES,
    Grade,
    MergeAction,
    RoundRobinAssigner,
    is_customer_referral,
    merge_submission,
)
from dealerflow.leads.domain_intake import (
    SubmissionRejected,
    contact_from_submission,
    interest_from_submission,
    merge_touch,
    submission_facts,
)
from dealerflow.leads.settings import LeadsSettings
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.pagination import decode_cursor, page_of
from dealerflow.runtime.problems import Problem, conflict, not_found, problem_type

Publish = Callable[[DbConnection, DomainEvent], Awaitable[str]]

#: Lead status by grade (the list filter ``status``).
STATUS_BY_GRADE = {
    Grade.N: "open",
    Grade.H: "open",
    Grade.A: "open",
    Grade.B: "open",
    Grade.C: "open",
    Grade.O: "converted",
    Grade.D: "delivered",
    Grade.F: "lost",
}
#: Keys of a submission's ``attributes`` that name the consultant to assign.
CONSULTANT_ATTRIBUTES = ("consultant_id", "prospect.consultant_id")


@dataclass(frozen=True)
class LeadsContext:
    """What use cases need from the running service (HTTP or consumer side)."""

    settings: LeadsSettings
    clock: Clock
    publish: Publish


def rejected(detail: str, *, slug: str = "lead-rejected") -> Problem:
    """A 422 problem for input the rules refuse."""
    return Problem(422, "Lead rejected", detail, type=problem_type(slug))


async def load_lead(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, *, for_update: bool = False
) -> repo.LeadRecord:
    """The dealer's lead, or a 404 (another dealer's lead is not visible)."""
    lead = await repo.get_lead(conn, dealer_id, lead_id, for_update=for_update)
    if lead is None:
        raise not_found("Lead", lead_id)
    return lead


def staff_for(lead: repo.LeadRecord, given: str | None) -> str:
    """The staff member acting: the one named, else the lead's consultant, else a 422."""
    consultant = given or lead.consultant_id
    if consultant is None:
        raise rejected("consultant_id is required: the lead has no consultant assigned")
    return consultant


def require_open(lead: repo.LeadRecord) -> None:
    """409 for a delivered (D) or lost (F) lead: it takes no further sales actions."""
    if lead.grade in CLOSED_GRADES:
        raise conflict(f"lead {lead.lead_id} is closed (grade {lead.grade})", slug="lead-closed")


# --- submissions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionResult:
    """Outcome of a submission: a new lead (created) or a touch on the open one."""

    dealer_id: str
    lead_id: uuid.UUID
    customer_id: uuid.UUID
    created: bool
    consultant_id: str | None
    #: True when the same submission id was seen before: nothing changed this time.
    replayed: bool = False

    @property
    def deduplicated(self) -> bool:
        return not self.created


async def submit_lead(
    conn: DbConnection,
    lc: LeadsContext,
    submission: InboundSubmission,
    *,
    dealer_group: str | None = None,
    consultant_id: str | None = None,
) -> SubmissionResult:
    """Record a submission: a new lead + LeadCreated, or a touch + LeadUpdated.

    De-duplication by (dealer, E.164 phone) per ``domain.merge_submission``; a submission
    whose sender id (``submission_id``) was already recorded changes nothing.
    """
    dealer_id = submission.dealer_id
    if not dealer_id:
        raise rejected("dealer_id is required (in the body, the ADF vendor id or the request)")
    now = lc.clock.now()
    try:
        facts = submission_facts(submission, dealer_id, now)
        contact = contact_from_submission(submission, lc.settings.unnamed_customer)
    except SubmissionRejected as exc:
        raise rejected(str(exc)) from None
    phone = contact.phone
    assert phone is not None  # contact_from_submission requires one
    await repo.lock_person(conn, dealer_id, phone)
    if submission.submission_id is not None:
        seen = await repo.find_submission(conn, dealer_id, submission.submission_id)
        if seen is not None:
            earlier = await load_lead(conn, dealer_id, seen.lead_id)
            return SubmissionResult(
                dealer_id,
                earlier.lead_id,
                earlier.customer_id,
                created=seen.outcome == "created",
                consultant_id=earlier.consultant_id,
                replayed=True,
            )
    open_lead = await repo.find_open_lead_by_phone(conn, dealer_id, phone)
    decision = merge_submission(
        open_lead.snapshot() if open_lead else None, facts, lc.settings.default_region
    )
    interest = interest_from_submission(submission, now.date())
    if decision.action is MergeAction.CREATE or open_lead is None:
        group = lc.settings.dealer_group(dealer_id, dealer_group)
        lead = repo.LeadRecord(
            dealer_id=dealer_id,
            lead_id=uuid.uuid4(),
            customer_id=customer_id_for(group, phone),
            phone_e164=phone,
            grade=Grade.N,
            status=STATUS_BY_GRADE[Grade.N],
            priority_rank=_priority_rank(submission.source, submission.referrer_customer_id),
            channel=str(submission.channel),
            source=str(submission.source),
            source_detail=submission.source_detail,
            referrer_customer_id=submission.referrer_customer_id,
            consultant_id=None,
            contact=contact,
            interest=interest,
            created_at=now,
            updated_at=now,
            last_touch_at=now,
        )
        chosen = consultant_id or _consultant_named_in(submission)
        if chosen is None:
            chosen = await next_on_duty(conn, dealer_id, now)
        lead = replace(lead, consultant_id=chosen)
        await repo.insert_lead(conn, lead)
        if chosen is not None:
            initial = str(AssignmentReason.INITIAL)
            await repo.insert_assignment(
                conn, dealer_id, lead.lead_id, chosen, None, initial, None, now
            )
        await _record_submission(conn, lead, submission, "created", now)
        await lc.publish(
            conn,
            LeadCreated(
                dealer_id=dealer_id,
                customer_id=lead.customer_id,
                occurred_at=now,
                lead_id=str(lead.lead_id),
                channel=submission.channel,
                source=submission.source,
                source_detail=submission.source_detail,
                referrer_customer_id=submission.referrer_customer_id,
                consultant_id=chosen,
                created_at=now,
                interest=interest,
                contact=contact,
                submission_id=submission.submission_id,
            ),
        )
        return SubmissionResult(dealer_id, lead.lead_id, lead.customer_id, True, chosen)

    merged = merge_touch(
        open_lead.contact,
        open_lead.interest,
        contact,
        interest,
        decision.new_models_of_interest,
        lc.settings.unnamed_customer,
        submission.customer.marketing_consent,
    )
    changed = list(merged.changed_fields)
    lead = replace(
        open_lead,
        contact=merged.contact,
        interest=merged.interest,
        updated_at=now,
        last_touch_at=now,
        touch_count=open_lead.touch_count + 1,
    )
    if decision.became_referral:
        lead = replace(
            lead,
            source=str(LeadSource.REFERRAL),
            referrer_customer_id=submission.referrer_customer_id,
            priority_rank=0,
        )
        changed += ["source", "referrer_customer_id"]
    if decision.reengaged:
        lead = replace(lead, reengaged_at=now)
        changed.append("reengaged_at")
    await repo.save_lead(conn, lead)
    await _record_submission(conn, lead, submission, "touched", now)
    reason = LeadUpdateReason.RE_ENGAGED if decision.reengaged else LeadUpdateReason.NEW_TOUCH
    await lc.publish(
        conn,
        LeadUpdated(
            dealer_id=dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            reason=reason,
            changed_fields=changed,
            touch_channel=submission.channel,
            touch_source=submission.source,
            interest=lead.interest if any(f.startswith("interest.") for f in changed) else None,
            contact=lead.contact if any(f.startswith("contact.") for f in changed) else None,
            updated_at=now,
        ),
    )
    return SubmissionResult(dealer_id, lead.lead_id, lead.customer_id, False, lead.consultant_id)


def _priority_rank(source: LeadSource, referrer: uuid.UUID | None) -> int:
    return 0 if is_customer_referral(source, referrer) else 1


def _consultant_named_in(submission: InboundSubmission) -> str | None:
    for key in CONSULTANT_ATTRIBUTES:
        value = submission.attributes.get(key, "").strip()
        if value:
            return value[:64]
    return None


async def _record_submission(
    conn: DbConnection,
    lead: repo.LeadRecord,
    submission: InboundSubmission,
    outcome: str,
    now: datetime,
) -> None:
    await repo.insert_submission(
        conn,
        repo.SubmissionRecord(
            dealer_id=lead.dealer_id,
            submission_id=uuid.uuid4(),
            lead_id=lead.lead_id,
            outcome=outcome,
            external_id=submission.submission_id,
            format=submission.format,
            channel=str(submission.channel),
            source=str(submission.source),
            received_at=now,
            payload=submission.model_dump_json(),
        ),
    )


# --- roster and assignment ------------------------------------------------------------


async def set_roster(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    roster: Sequence[tuple[str, str | None, bool]],
) -> list[repo.RosterEntry]:
    """Replace the dealer's consultant roster (id, name, on duty)."""
    ids = [entry[0] for entry in roster]
    if len(set(ids)) != len(ids):
        raise rejected("a consultant is listed twice", slug="invalid-roster")
    await repo.replace_roster(conn, dealer_id, roster, lc.clock.now())
    return await repo.list_roster(conn, dealer_id)


async def next_on_duty(
    conn: DbConnection, dealer_id: str, now: datetime, exclude: Sequence[str] = ()
) -> str | None:
    """Round-robin over the dealer's on-duty consultants (state kept per dealer)."""
    roster = await repo.list_roster(conn, dealer_id)
    assigner = RoundRobinAssigner(await repo.lock_rotation(conn, dealer_id, now))
    chosen = assigner.assign([entry.consultant() for entry in roster], exclude)
    if chosen is not None:
        await repo.save_rotation(conn, dealer_id, chosen, now)
    return chosen


async def assign_lead(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    lead_id: uuid.UUID,
    *,
    consultant_id: str | None,
    assigned_by: str | None,
    reason: AssignmentReason = AssignmentReason.MANUAL,
) -> repo.LeadRecord:
    """(Re)assign a lead: to ``consultant_id``, else round-robin to someone else on duty.

    Records the change and publishes LeadAssigned; assigning to the current consultant
    changes nothing.
    """
    now = lc.clock.now()
    lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
    require_open(lead)
    previous = lead.consultant_id
    chosen = consultant_id
    if chosen is None:
        chosen = await next_on_duty(conn, dealer_id, now, exclude=[previous] if previous else [])
        if chosen is None:
            raise conflict("no other consultant is on duty", slug="no-consultant-on-duty")
    if chosen == previous:
        return lead
    lead = replace(lead, consultant_id=chosen, updated_at=now)
    await repo.save_lead(conn, lead)
    await repo.insert_assignment(
        conn, dealer_id, lead.lead_id, chosen, previous, str(reason), assigned_by, now
    )
    await lc.publish(
        conn,
        LeadAssigned(
            dealer_id=dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            consultant_id=chosen,
            previous_consultant_id=previous,
            reason=reason,
            assigned_by=assigned_by,
            assigned_at=now,
        ),
    )
    return lead


# --- queries --------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadPage:
    items: list[repo.LeadRecord]
    next_cursor: str | None


async def list_leads(
    conn: DbConnection,
    dealer_id: str,
    where: repo.LeadFilter,
    *,
    limit: int,
    cursor: str | None,
) -> LeadPage:
    """One page of the dealer's leads in working order (``next_cursor`` None at the end)."""
    # 400, not the usual 422: what this API has always answered
    after = decode_cursor(cursor, *repo.LIST_KEY_KINDS, status=400)
    rows = await repo.list_leads(conn, dealer_id, where, limit=limit + 1, after=after)
    return LeadPage(*page_of(rows, limit, repo.list_key))
