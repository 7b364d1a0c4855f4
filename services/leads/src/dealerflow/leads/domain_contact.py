"""The contact log (the consultant's daily visit report) and the follow-up gate.

Each entry records when, channel, outcome, grade after, next contact date and notes; the
manager reviews them daily. A customer who declined the invitation gets no sales
follow-ups until they re-engage (handbook: never pitch a new car to such a customer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dealerflow.contracts.enums import ContactChannel, ContactOutcome, LostReason
from dealerflow.leads.domain_grading import (
    ACTIVE_GRADES,
    Grade,
    InvalidGradeTransition,
    validate_grade_transition,
)
from dealerflow.leads.domain_identity import LeadSnapshot, invitation_suppressed
from dealerflow.policy import LeadPolicy


@dataclass(frozen=True)
class ContactLogEntry:
    contacted_at: datetime
    channel: ContactChannel
    outcome: ContactOutcome
    grade_after: Grade
    next_contact_at: datetime | None
    notes: str = ""
    customer_initiated: bool = False  # the customer called, wrote or walked in
    invitation_declined: bool = False  # the customer declined a visit / test-drive invitation
    lost_reason: LostReason | None = None  # with grade_after F
    lost_note: str | None = None


def validate_contact_log_entry(
    entry: ContactLogEntry,
    current_grade: Grade,
    now: datetime,
    lead_policy: LeadPolicy,
    clock_skew: timedelta = timedelta(minutes=5),
) -> tuple[str, ...]:
    """Every problem with `entry` for a lead now at `current_grade` (empty = valid), under
    the dealer's follow-up cadence (`lead_policy.follow_up_every`).

    - `contacted_at` is timezone-aware and not in the future (beyond `clock_skew`);
    - the grade change is allowed (F with a lost reason, see validate_grade_transition);
    - a lead still being worked (N, H, A, B, C) needs a next contact date after the
      contact and no later than its grade's cadence, unless the customer declined the
      invitation (then sales follow-ups are suppressed and no date is required);
    - a lost lead (F) gets no next contact date: the manager reviews it instead.
    """
    cadence = {Grade(grade): every for grade, every in lead_policy.follow_up_every.items()}
    problems: list[str] = []
    if entry.contacted_at.tzinfo is None:
        return ("contacted_at must be timezone-aware",)
    if entry.contacted_at > now + clock_skew:
        problems.append("contacted_at is in the future")
    if entry.grade_after != current_grade or entry.lost_reason is not None:
        try:
            validate_grade_transition(
                current_grade, entry.grade_after, entry.lost_reason, entry.lost_note
            )
        except InvalidGradeTransition as exc:
            problems.append(str(exc))
    next_at = entry.next_contact_at
    if next_at is not None and next_at.tzinfo is None:
        problems.append("next_contact_at must be timezone-aware")
        return tuple(problems)
    declined = entry.invitation_declined
    if entry.grade_after is Grade.F:
        if next_at is not None:
            problems.append("a lost lead (F) gets no next contact date")
    elif next_at is not None and next_at <= entry.contacted_at:
        problems.append("next_contact_at must be after contacted_at")
    elif entry.grade_after is Grade.N or entry.grade_after in ACTIVE_GRADES:
        if next_at is None:
            if not declined:
                problems.append(f"grade {entry.grade_after} needs a next contact date")
        elif not declined and entry.grade_after in cadence:
            latest = entry.contacted_at + cadence[entry.grade_after]
            if next_at > latest:
                problems.append(
                    f"grade {entry.grade_after} is followed up at least every "
                    f"{cadence[entry.grade_after]}; next contact is too late"
                )
    return tuple(problems)


def apply_contact_log_entry(lead: LeadSnapshot, entry: ContactLogEntry) -> LeadSnapshot:
    """The lead after a (validated) contact: new grade, decline or re-engagement noted.

    A declined invitation starts suppression; a later customer-initiated contact ends it.
    """
    declined_at = lead.invitation_declined_at
    reengaged_at = lead.reengaged_at
    if entry.invitation_declined:
        declined_at = entry.contacted_at
    elif entry.customer_initiated and (declined_at is None or entry.contacted_at > declined_at):
        reengaged_at = entry.contacted_at
    return replace(
        lead,
        grade=entry.grade_after,
        invitation_declined_at=declined_at,
        reengaged_at=reengaged_at,
    )


def record_invitation_declined(lead: LeadSnapshot, at: datetime) -> LeadSnapshot:
    """The lead after the customer declined the invitation: sales follow-ups stop."""
    return replace(lead, invitation_declined_at=at)


def is_sales_follow_up_allowed(lead: LeadSnapshot) -> bool:
    """May a consultant pitch to this lead now?

    Only leads still being sold to (N, H, A, B, C) get sales follow-ups, and not while a
    declined invitation stands (until the customer re-engages).
    """
    if lead.grade is not Grade.N and lead.grade not in ACTIVE_GRADES:
        return False
    return not invitation_suppressed(lead)
