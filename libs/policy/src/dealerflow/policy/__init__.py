"""Per-dealer business rules (defaults from DOMAIN.md) and business-time arithmetic.

Pure: no I/O. Services load a dealer's stored overrides and call `policy_with_overrides`,
then build a `BusinessCalendar` from the policy for SLA and quiet-hour arithmetic.
"""

from dealerflow.policy.business_calendar import BusinessCalendar, add_months
from dealerflow.policy.dealer_policy import (
    CalendarPolicy,
    ClockMode,
    ComplaintPolicy,
    ComplaintSla,
    ContactPolicy,
    DealerPolicy,
    FirstContactClass,
    FirstContactSla,
    LeadGrade,
    LeadPolicy,
    OpeningInterval,
    OwnerCarePolicy,
    SalesPolicy,
    ServicePolicy,
    Severity,
    SlaSpec,
    Weekday,
    WeeklyHours,
    policy_with_overrides,
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
    "SalesPolicy",
    "ServicePolicy",
    "Severity",
    "SlaSpec",
    "Weekday",
    "WeeklyHours",
    "add_months",
    "policy_with_overrides",
]
