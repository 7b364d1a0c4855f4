"""String enums of complaint handling and customer care (complaints and notifier events).

Same rules as `dealerflow.contracts.enums`: values may be added, never removed.
"""

from __future__ import annotations

from enum import StrEnum


class ComplaintChannel(StrEnum):
    """Where a complaint was received; `system` = opened automatically by dealerflow."""

    ON_SITE = "on_site"
    HOTLINE = "hotline"
    LETTER_EMAIL = "letter_email"
    CALLBACK_SURVEY = "callback_survey"
    ONLINE = "online"
    REGULATOR = "regulator"
    OEM = "oem"
    MEDIA = "media"
    SYSTEM = "system"


class ComplaintCategory(StrEnum):
    """What the complaint is about."""

    PRODUCT_QUALITY = "product_quality"
    SALES_SERVICE = "sales_service"
    AFTER_SALES_SERVICE = "after_sales_service"
    OTHER = "other"


class ComplaintSeverity(StrEnum):
    """critical: safety, injury, media or regulator involved; high; normal."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


class ComplaintOriginKind(StrEnum):
    """What opened a complaint: staff recording it, or one of the automatic triggers."""

    MANUAL = "manual"
    DISSATISFIED_CALLBACK = "dissatisfied_callback"
    LOW_SURVEY_SCORE = "low_survey_score"
    REPEAT_REPAIR = "repeat_repair"
    FAILED_QUALITY_CHECK = "failed_quality_check"


class EscalationRole(StrEnum):
    """Rung of the escalation ladder above the handler."""

    DEPARTMENT_MANAGER = "department_manager"
    GM = "gm"
    OEM_REGION = "oem_region"


class SlaClock(StrEnum):
    """A complaint SLA clock: acknowledge, resolve, inform (tell the customer how it is
    handled; 7 working days by law), or first_update (the dealer's own, shorter deadline
    for the customer's first update on the handling)."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    INFORM = "inform"
    FIRST_UPDATE = "first_update"


class Responsibility(StrEnum):
    """Who was found responsible for the complaint's cause."""

    DEALER = "dealer"
    OEM = "oem"
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"
    UNDETERMINED = "undetermined"


class Department(StrEnum):
    """Dealer department a complaint is routed to."""

    SALES = "sales"
    AFTER_SALES = "after_sales"
    PARTS = "parts"
    FINANCE = "finance"
    CUSTOMER_RELATIONS = "customer_relations"
    MANAGEMENT = "management"


class TaskKind(StrEnum):
    """What a staff task is for."""

    LEAD_FIRST_CONTACT = "lead_first_contact"
    LEAD_FOLLOW_UP = "lead_follow_up"
    LEAD_REGRADE = "lead_regrade"
    LEAD_LOST_REVIEW = "lead_lost_review"
    APPOINTMENT_NO_SHOW = "appointment_no_show"
    DISCOUNT_APPROVAL = "discount_approval"
    DELIVERY_CALLBACK = "delivery_callback"
    SATISFACTION_CALLBACK = "satisfaction_callback"
    SERVICE_CALLBACK = "service_callback"
    DECLINED_REPAIR_FOLLOW_UP = "declined_repair_follow_up"
    PARTS_REORDER = "parts_reorder"
    RETENTION_CALL = "retention_call"
    COMPLAINT_HANDLING = "complaint_handling"
    COMPLAINT_ESCALATION = "complaint_escalation"
    COMPLAINT_VERIFICATION = "complaint_verification"
    OTHER = "other"
    PLATE_REGISTRATION = "plate_registration"
    MANUAL = "manual"


class TaskOutcome(StrEnum):
    """Outcome a staff member records to complete a task."""

    REACHED = "reached"
    UNREACHABLE = "unreachable"
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class TaskCancelReason(StrEnum):
    """Why a pending task was cancelled."""

    NO_LONGER_NEEDED = "no_longer_needed"
    SUPERSEDED = "superseded"
    LEAD_CLOSED = "lead_closed"
    CUSTOMER_DECLINED = "customer_declined"
    MANUAL = "manual"


class ReminderKind(StrEnum):
    """Kind of customer message the notifier schedules."""

    THANK_YOU = "thank_you"
    APPOINTMENT = "appointment"
    TEST_DRIVE = "test_drive"
    DELIVERY = "delivery"
    SERVICE_APPOINTMENT = "service_appointment"
    MAINTENANCE_DUE = "maintenance_due"
    INSURANCE_RENEWAL = "insurance_renewal"
    SATISFACTION_SURVEY = "satisfaction_survey"
    SERVICE_FOLLOW_UP = "service_follow_up"
    COMPLAINT_UPDATE = "complaint_update"
    HOLIDAY_GREETING = "holiday_greeting"
    WEATHER_TIP = "weather_tip"
    LICENCE_INSPECTION = "licence_inspection"
    REFERRAL_INVITATION = "referral_invitation"
    OTHER = "other"
    LICENCE_RENEWAL = "licence_renewal"


class SuppressionPolicy(StrEnum):
    """Contact policy that stopped a customer message."""

    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    QUIET_HOURS = "quiet_hours"
    MARKETING_CAP = "marketing_cap"
    DUPLICATE = "duplicate"
    INVITATION_DECLINED = "invitation_declined"
    NO_CONTACT_ADDRESS = "no_contact_address"
    OPEN_COMPLAINT = "open_complaint"
    NO_MARKETING_CHANNEL = "no_marketing_channel"


class SurveyKind(StrEnum):
    """Which survey a customer answered."""

    DELIVERY_SATISFACTION = "delivery_satisfaction"
    SERVICE_SATISFACTION = "service_satisfaction"
    COMPLAINT_VERIFICATION = "complaint_verification"
    OTHER = "other"


class ConsentSource(StrEnum):
    """Where a consent change came from."""

    CUSTOMER_REQUEST = "customer_request"
    STAFF = "staff"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    REPLY_KEYWORD = "reply_keyword"
    FORM = "form"


class RecordKind(StrEnum):
    """Kind of business record a task, reminder or survey refers to."""

    LEAD = "lead"
    APPOINTMENT = "appointment"
    TEST_DRIVE = "test_drive"
    QUOTE = "quote"
    CONTRACT = "contract"
    DELIVERY = "delivery"
    SERVICE_APPOINTMENT = "service_appointment"
    REPAIR_ORDER = "repair_order"
    COMPLAINT = "complaint"
    PART = "part"
    CUSTOMER = "customer"
