"""Per-dealer business rules (defaults from DOMAIN.md) and business-time arithmetic.

Pure: no I/O. Services load a dealer's stored overrides and call `policy_with_overrides`,
then build a `BusinessCalendar` from the policy for SLA and quiet-hour arithmetic.
"""

from dealerflow.policy.business_calendar import BusinessCalendar, add_months
from dealerflow.policy.dealer_policy import (
    CalendarPolicy,
    ComplaintPolicy,
    ComplaintSla,
    ContactPolicy,
    DealerPolicy,
    FirstContactClass,
    FirstContactSla,
    LeadGrade,
    LeadPolicy,
    OwnerCarePolicy,
    SalesPolicy,
    ServicePolicy,
    Severity,
    merge_overrides,
    policy_with_overrides,
)
from dealerflow.policy.primitives import (
    ClockMode,
    OpeningInterval,
    PolicyGroup,
    SlaSpec,
    Weekday,
    WeeklyHours,
)

__all__ = [
    "BusinessCalendar",
    "CalendarPolicy",
    "ClockMode",
    "ComplaintPolicy",
    "ComplaintSla",
    "ContactPolicy",
    "DealerPolicy",
    "FirstContactClass",
    "FirstContactSla",
    "LeadGrade",
    "LeadPolicy",
    "OpeningInterval",
    "OwnerCarePolicy",
    "PolicyGroup",
    "SalesPolicy",
    "ServicePolicy",
    "Severity",
    "SlaSpec",
    "Weekday",
    "WeeklyHours",
    "add_months",
    "merge_overrides",
    "policy_with_overrides",
]
