"""Recording a lead submission (HTTP or the inbound topic): a new lead, or a touch.

De-duplication by (dealer, E.164 phone) per ``domain.merge_submission``: a submission for
a person with an open lead is a touch on it (LeadUpdated), otherwise a new lead with a
consultant chosen by the dealer's assignment strategy (LeadCreated). A sender id
(``submission_id``) seen before changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from dealerflow.contracts.enums import AssignmentReason, LeadSource, LeadUpdateReason
from dealerflow.contracts.events.leads import LeadCreated, LeadUpdated
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.inbound import LeadSubmission
from dealerflow.leads import repository as repo
from dealerflow.leads.domain import (
    Decision,
    Grade,
    LeadRejected,
    MergeAction,
    is_customer_referral,
    merge_submission,
)
from dealerflow.leads.domain_intake import (
    contact_from_submission,
    interest_from_submission,
    merge_touch,
    submission_facts,
)
from dealerflow.leads.records import LeadRecord, SubmissionRecord
from dealerflow.leads.usecases import (
    STATUS_BY_GRADE,
    Uc,
    assignment_of,
    dealer_today,
    next_consultant,
)

#: Keys of a submission's ``attributes`` that name the consultant to assign.
CONSULTANT_ATTRIBUTES = ("consultant_id", "prospect.consultant_id")


@dataclass(frozen=True)
class SubmitLead:
    """A parsed submission (JSON or ADF) and how its sender wants it handled."""

    submission: LeadSubmission
    #: the dealer group for customer ids (default: the dealer's ``profile.group_id``)
    dealer_group: str | None = None
    #: assign a new lead to this consultant (default: named in the submission, else
    #: the dealer's assignment strategy)
    consultant_id: str | None = None


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


async def submit_lead(uc: Uc, cmd: SubmitLead) -> SubmissionResult:
    """Record a submission: a new lead + LeadCreated, or a touch + LeadUpdated."""
    submission = cmd.submission
    dealer_id = submission.dealer_id
    if not dealer_id:
        raise LeadRejected("dealer_id is required (in the body, the ADF vendor id or the request)")
    settings = uc.settings
    facts = submission_facts(submission, dealer_id, uc.now)  # LeadRejected without a phone
    phone = facts.phone
    await repo.lock_person(uc.conn, dealer_id, phone)
    if submission.submission_id is not None:
        seen = await repo.find_submission(uc.conn, dealer_id, submission.submission_id)
        if seen is not None:
            return await _replayed(uc, dealer_id, seen)
    open_lead = await repo.find_open_lead_by_phone(uc.conn, dealer_id, phone)
    snapshot = open_lead.snapshot() if open_lead else None
    if snapshot is not None and snapshot.phone_e164 != phone:
        # reached through the number of a lead merged into it: the same person
        snapshot = replace(snapshot, phone_e164=phone)
    decision = merge_submission(snapshot, facts, settings.default_region)
    if decision.action is MergeAction.CREATE or open_lead is None:
        return await _create(uc, cmd, phone)
    return await _touch(uc, submission, open_lead, decision)


async def _replayed(uc: Uc, dealer_id: str, seen: SubmissionRecord) -> SubmissionResult:
    earlier = await repo.get_lead(uc.conn, dealer_id, seen.lead_id)
    assert earlier is not None  # submissions are only recorded with their lead
    return SubmissionResult(
        dealer_id,
        earlier.lead_id,
        earlier.customer_id,
        created=seen.outcome == "created",
        consultant_id=earlier.consultant_id,
        replayed=True,
    )


async def _create(uc: Uc, cmd: SubmitLead, phone: str) -> SubmissionResult:
    submission = cmd.submission
    dealer_id = submission.dealer_id
    assert dealer_id is not None
    now = uc.now
    contact = contact_from_submission(submission, uc.settings.unnamed_customer)
    interest = interest_from_submission(submission, await dealer_today(uc, dealer_id))
    group = await _customer_group(uc, dealer_id, cmd.dealer_group)
    chosen = cmd.consultant_id or _consultant_named_in(submission)
    rotated = False
    if chosen is None:
        # as late as possible: from here to the commit the dealer's new leads wait
        chosen = await next_consultant(uc, dealer_id, move_pointer=False)
        rotated = chosen is not None
    lead = LeadRecord(
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
        consultant_id=chosen,
        contact=contact,
        interest=interest,
        created_at=now,
        updated_at=now,
        last_touch_at=now,
    )
    await repo.insert_new_lead(
        uc.conn,
        lead,
        _submission_of(uc, lead, submission, "created"),
        assignment_of(uc, lead, None, AssignmentReason.INITIAL) if chosen is not None else None,
        rotated=rotated,
    )
    await uc.publish(
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
        )
    )
    return SubmissionResult(dealer_id, lead.lead_id, lead.customer_id, True, chosen)


async def _touch(
    uc: Uc, submission: LeadSubmission, open_lead: LeadRecord, decision: Decision
) -> SubmissionResult:
    now = uc.now
    unnamed = uc.settings.unnamed_customer
    merged = merge_touch(
        open_lead.contact,
        open_lead.interest,
        contact_from_submission(submission, unnamed),
        interest_from_submission(submission, await dealer_today(uc, open_lead.dealer_id)),
        decision.new_models_of_interest,
        unnamed,
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
    await repo.save_lead(uc.conn, lead)
    await _record_submission(uc, lead, submission, "touched")
    reason = LeadUpdateReason.RE_ENGAGED if decision.reengaged else LeadUpdateReason.NEW_TOUCH
    await uc.publish(
        LeadUpdated(
            dealer_id=lead.dealer_id,
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
        )
    )
    return SubmissionResult(
        lead.dealer_id, lead.lead_id, lead.customer_id, False, lead.consultant_id
    )


async def _customer_group(uc: Uc, dealer_id: str, requested: str | None) -> str:
    """The dealer group whose customer ids the lead gets: the one the sender named, else
    the dealer's (``profile.group_id``), else the environment's default group."""
    if requested and requested.strip():
        return requested.strip()
    return (await uc.dealer(dealer_id)).profile.group_id or uc.settings.default_dealer_group


def _priority_rank(source: LeadSource, referrer: uuid.UUID | None) -> int:
    return 0 if is_customer_referral(source, referrer) else 1


def _consultant_named_in(submission: LeadSubmission) -> str | None:
    for key in CONSULTANT_ATTRIBUTES:
        value = submission.attributes.get(key, "").strip()
        if value:
            return value[:64]
    return None


async def _record_submission(
    uc: Uc, lead: LeadRecord, submission: LeadSubmission, outcome: str
) -> None:
    await repo.insert_submission(uc.conn, _submission_of(uc, lead, submission, outcome))


def _submission_of(
    uc: Uc, lead: LeadRecord, submission: LeadSubmission, outcome: str
) -> SubmissionRecord:
    return SubmissionRecord(
        dealer_id=lead.dealer_id,
        submission_id=uuid.uuid4(),
        lead_id=lead.lead_id,
        outcome=outcome,
        external_id=submission.submission_id,
        format=submission.format,
        channel=str(submission.channel),
        source=str(submission.source),
        received_at=uc.now,
        payload=submission.model_dump_json(),
    )
