"""Pure lead rules (DOMAIN.md section 1): import everything the service needs from here.

No I/O: plain dataclasses and functions over contracts types; every dealer setting is
passed in (from ``await uc.policy(dealer_id)``). The rules live in the domain_* modules
by topic. The first-contact SLA and the follow-up cadence are the notifier's to act on.
"""

from dealerflow.contracts.enums import (
    ContactChannel,
    ContactOutcome,
    LeadChannel,
    LeadSource,
    LostReason,
)
from dealerflow.leads.domain_assignment import (
    AssignmentStrategy,
    available_consultants,
    choose_consultant,
    next_round_robin,
)
from dealerflow.leads.domain_contact import (
    ContactLogEntry,
    apply_contact_log_entry,
    is_sales_follow_up_allowed,
    record_invitation_declined,
    validate_contact_log_entry,
)
from dealerflow.leads.domain_grading import (
    ACTIVE_GRADES,
    CLOSED_GRADES,
    Grade,
    InvalidGradeTransition,
    LeadRejected,
    validate_grade_transition,
)
from dealerflow.leads.domain_identity import (
    Decision,
    LeadSnapshot,
    MergeAction,
    SubmissionFacts,
    invitation_suppressed,
    is_customer_referral,
    merge_submission,
)

__all__ = [
    "ACTIVE_GRADES",
    "CLOSED_GRADES",
    "AssignmentStrategy",
    "ContactChannel",
    "ContactLogEntry",
    "ContactOutcome",
    "Decision",
    "Grade",
    "InvalidGradeTransition",
    "LeadChannel",
    "LeadRejected",
    "LeadSnapshot",
    "LeadSource",
    "LostReason",
    "MergeAction",
    "SubmissionFacts",
    "apply_contact_log_entry",
    "available_consultants",
    "choose_consultant",
    "invitation_suppressed",
    "is_customer_referral",
    "is_sales_follow_up_allowed",
    "merge_submission",
    "next_round_robin",
    "record_invitation_declined",
    "validate_contact_log_entry",
    "validate_grade_transition",
]
