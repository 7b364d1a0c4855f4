"""Lead identity: de-duplication by phone, merging a submission into the open lead.

Rule (DOMAIN.md 1): the same person at the same dealer, recognised by the normalised
phone number (``contracts.identity.normalize_phone``), is one lead; a new submission
while that lead is open is a touch on it, never a second lead. Referrals by existing
customers rank highest (the lead list's order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from dealerflow.contracts.enums import LeadChannel, LeadSource
from dealerflow.contracts.identity import normalize_phone
from dealerflow.leads.domain_grading import CLOSED_GRADES, Grade


@dataclass(frozen=True)
class SubmissionFacts:
    """What the de-duplication rule needs of a submission (parsed from JSON or ADF XML)."""

    dealer_id: str
    phone: str  # as submitted; normalised by the rules here
    source: LeadSource
    received_at: datetime
    channel: LeadChannel = LeadChannel.ONLINE
    name: str | None = None
    models_of_interest: tuple[str, ...] = ()
    referred_by_customer_id: UUID | None = None
    notes: str | None = None


@dataclass(frozen=True)
class LeadSnapshot:
    """What the rules need to know about an existing lead."""

    lead_id: UUID
    dealer_id: str
    phone_e164: str
    grade: Grade
    source: LeadSource
    created_at: datetime
    models_of_interest: tuple[str, ...] = ()
    referred_by_customer_id: UUID | None = None
    invitation_declined_at: datetime | None = None
    reengaged_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Open leads absorb new submissions; delivered (D) and lost (F) leads do not."""
        return self.grade not in CLOSED_GRADES


class MergeAction(StrEnum):
    CREATE = "create"
    TOUCH = "touch"


@dataclass(frozen=True)
class Decision:
    """What to do with a submission: create a lead, or record a touch on `lead_id`."""

    action: MergeAction
    phone_e164: str
    lead_id: UUID | None = None
    # Models mentioned in the submission that the open lead did not list yet.
    new_models_of_interest: tuple[str, ...] = field(default=())
    # The customer reached out again after declining an invitation: lift the suppression.
    reengaged: bool = False
    # The submission is a referral but the open lead was not: it now ranks as one.
    became_referral: bool = False


def merge_submission(
    open_lead: LeadSnapshot | None,
    submission: SubmissionFacts,
    default_region: str = "CN",
) -> Decision:
    """Decide whether `submission` creates a lead or becomes a touch on `open_lead`.

    `open_lead` is the caller's lookup of the dealer's open lead with that E.164 phone
    (None when nothing matched). A closed lead (D or F) passed in is treated as no match:
    the person starts a new purchase cycle. Raises InvalidPhoneNumber (contracts) for an
    unusable phone and ValueError if the lead passed in belongs to another dealer or phone
    (a caller bug, not a business case).
    """
    phone = normalize_phone(submission.phone, default_region)
    if open_lead is None or not open_lead.is_open:
        return Decision(MergeAction.CREATE, phone)
    if open_lead.dealer_id != submission.dealer_id or open_lead.phone_e164 != phone:
        raise ValueError("open_lead does not match the submission's dealer and phone")
    known = {m.casefold() for m in open_lead.models_of_interest}
    new_models: list[str] = []
    for model in submission.models_of_interest:
        if model.strip() and model.casefold() not in known:
            known.add(model.casefold())
            new_models.append(model)
    declined_at = open_lead.invitation_declined_at
    reengaged = (
        invitation_suppressed(open_lead)
        and declined_at is not None
        and submission.received_at > declined_at
    )
    return Decision(
        MergeAction.TOUCH,
        phone,
        lead_id=open_lead.lead_id,
        new_models_of_interest=tuple(new_models),
        reengaged=reengaged,
        became_referral=is_customer_referral(submission.source, submission.referred_by_customer_id)
        and not is_customer_referral(open_lead.source, open_lead.referred_by_customer_id),
    )


def invitation_suppressed(lead: LeadSnapshot) -> bool:
    """True while the customer's declined invitation still stands.

    Handbook rule: never pitch a new car to a customer who declined the invitation, until
    the customer re-engages (any customer-initiated contact after the decline).
    """
    declined_at = lead.invitation_declined_at
    if declined_at is None:
        return False
    return lead.reengaged_at is None or lead.reengaged_at <= declined_at


def is_customer_referral(source: LeadSource, referred_by_customer_id: UUID | None) -> bool:
    """A referral counts as "by an existing customer" only when the referrer is known."""
    return source is LeadSource.REFERRAL and referred_by_customer_id is not None
