"""From an inbound submission (JSON or ADF, already parsed by contracts) to lead data.

Pure: maps a `dealerflow.contracts.inbound.LeadSubmission` onto the contact snapshot and
interest a LeadCreated carries, onto the facts the de-duplication rule needs, and merges a
new touch into an open lead's contact and interest (fields only filled in or extended,
never blanked: an outside form that omits a field does not erase what staff recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, Locale, PurchaseHorizon
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.contracts.inbound import LeadSubmission as InboundSubmission
from dealerflow.leads.domain_grading import LeadRejected
from dealerflow.leads.domain_identity import SubmissionFacts

#: Among leads of the same priority and age, who comes first: the person in the showroom,
#: then the caller, then an online enquiry (lower first; other channels last).
CHANNEL_PRIORITY: dict[str, int] = {"walk_in": 0, "phone": 1, "online": 2}

_MODEL_NAME_MAX = 100
_CURRENT_VEHICLE_MAX = 200
_NOTES_MAX = 2000
# Upper bounds (in days from the submission) of the purchase-horizon buckets.
_HORIZON_BUCKETS: tuple[tuple[int, PurchaseHorizon], ...] = (
    (7, PurchaseHorizon.WITHIN_7_DAYS),
    (15, PurchaseHorizon.WITHIN_15_DAYS),
    (30, PurchaseHorizon.WITHIN_30_DAYS),
    (90, PurchaseHorizon.WITHIN_90_DAYS),
)


def primary_phone(submission: InboundSubmission) -> str:
    """The E.164 number leads de-duplicate by; a lead without one is refused.

    Contracts accept e-mail-only submissions, but a lead is identified by its phone number
    (DOMAIN.md 1), so those are refused here with the unreadable numbers named.
    """
    if submission.customer.phones:
        return submission.customer.phones[0]
    unreadable = submission.customer.invalid_phones
    detail = f" (unreadable: {', '.join(unreadable)})" if unreadable else ""
    raise LeadRejected(f"a lead needs a valid phone number{detail}")


def purchase_horizon(purchase_by: date | None, today: date) -> PurchaseHorizon:
    """The horizon bucket of a "buy by" date named in the submission."""
    if purchase_by is None:
        return PurchaseHorizon.UNKNOWN
    days = (purchase_by - today).days
    for limit, horizon in _HORIZON_BUCKETS:
        if days <= limit:
            return horizon
    return PurchaseHorizon.LATER


def interest_from_submission(submission: InboundSubmission, today: date) -> LeadInterest:
    """Models, current vehicle (first trade-in), horizon and the customer's message."""
    models: list[str] = []
    for vehicle in submission.vehicles_of_interest:
        name = vehicle.model or vehicle.make
        if name and name.casefold() not in {m.casefold() for m in models}:
            models.append(name[:_MODEL_NAME_MAX])
    current_vehicle = None
    if submission.trade_ins:
        car = submission.trade_ins[0]
        words = [str(p) for p in (car.make, car.model, car.year) if p]
        current_vehicle = " ".join(words)[:_CURRENT_VEHICLE_MAX] or None
    comments = submission.customer.comments
    return LeadInterest(
        models=models,
        current_vehicle=current_vehicle,
        purchase_horizon=purchase_horizon(submission.customer.purchase_by, today),
        notes=comments[:_NOTES_MAX] if comments else None,
    )


def contact_from_submission(submission: InboundSubmission, unnamed: str) -> ContactSnapshot:
    """The contact snapshot of a new lead.

    The person asked to be contacted about their enquiry, so service contact is consented;
    marketing only when the form asked and the customer agreed.
    """
    customer = submission.customer
    return ContactSnapshot(
        name=customer.name or unnamed,
        phone=primary_phone(submission),
        email=customer.email,
        preferred_channel=customer.preferred_contact or ContactChannel.PHONE,
        consent=ConsentSnapshot(service=True, marketing=bool(customer.marketing_consent)),
        locale=customer.locale or Locale.ZH_CN,
    )


def submission_facts(
    submission: InboundSubmission, dealer_id: str, received_at: datetime
) -> SubmissionFacts:
    """What the de-duplication rule (`merge_submission`) needs to know."""
    return SubmissionFacts(
        dealer_id=dealer_id,
        phone=primary_phone(submission),
        source=submission.source,
        received_at=received_at,
        channel=submission.channel,
        name=submission.customer.name,
        models_of_interest=tuple(
            (v.model or v.make or "")[:_MODEL_NAME_MAX] for v in submission.vehicles_of_interest
        ),
        referred_by_customer_id=submission.referrer_customer_id,
        notes=submission.customer.comments,
    )


@dataclass(frozen=True)
class Merged:
    """A lead field after a touch, and the names of what changed (LeadUpdated)."""

    contact: ContactSnapshot
    interest: LeadInterest
    changed_fields: tuple[str, ...]


def merge_touch(
    contact: ContactSnapshot,
    interest: LeadInterest,
    submitted_contact: ContactSnapshot,
    submitted_interest: LeadInterest,
    new_models: Sequence[str],
    unnamed: str,
    submitted_marketing_consent: bool | None,
) -> Merged:
    """Fold a touch into the open lead: add models, fill in what was missing.

    A name replaces only the placeholder; an e-mail, a current vehicle or a known horizon
    only fill gaps; an explicit marketing answer on the new form is the latest word.
    """
    changed: list[str] = []
    contact_updates: dict[str, object] = {}
    if contact.name == unnamed and submitted_contact.name != unnamed:
        contact_updates["name"] = submitted_contact.name
    if contact.email is None and submitted_contact.email is not None:
        contact_updates["email"] = submitted_contact.email
    if (
        submitted_marketing_consent is not None
        and submitted_marketing_consent != contact.consent.marketing
    ):
        contact_updates["consent"] = contact.consent.model_copy(
            update={"marketing": submitted_marketing_consent}
        )
    changed += [f"contact.{name}" for name in contact_updates]

    interest_updates: dict[str, object] = {}
    if new_models:
        interest_updates["models"] = [*interest.models, *new_models]
    if interest.current_vehicle is None and submitted_interest.current_vehicle is not None:
        interest_updates["current_vehicle"] = submitted_interest.current_vehicle
    if (
        interest.purchase_horizon is PurchaseHorizon.UNKNOWN
        and submitted_interest.purchase_horizon is not PurchaseHorizon.UNKNOWN
    ):
        interest_updates["purchase_horizon"] = submitted_interest.purchase_horizon
    changed += [f"interest.{name}" for name in interest_updates]

    # Re-validate through the models (model_copy would skip validation).
    new_contact = (
        ContactSnapshot.model_validate({**contact.model_dump(), **contact_updates})
        if contact_updates
        else contact
    )
    new_interest = (
        LeadInterest.model_validate({**interest.model_dump(), **interest_updates})
        if interest_updates
        else interest
    )
    return Merged(new_contact, new_interest, tuple(changed))
