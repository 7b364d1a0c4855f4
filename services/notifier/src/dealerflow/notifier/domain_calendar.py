"""The care calendar as data: one `CareRule` per cadence the notifier plans (pure).

`CARE_CALENDAR` names, for every staff task and customer message the planners in
``domain*`` make, the events that trigger it, what it makes (a TaskKind or ReminderKind,
the message purpose), who it is for, its timing as a function of the dealer's
`DealerPolicy` (`CareRule.timing`: the effective numbers and the policy keys that change
them), how business and quiet hours move it, and the events that cancel it.

A dealer turns rules off with ``care.disabled`` (rule keys). The one place that enforces
it is where items are scheduled (`usecases_tasks.schedule_task`,
`usecases_messages.schedule_reminder`): `disabled_rule` finds the rule of a planned item
by its kind and business key. Keys the notifier does not know are ignored
(`unknown_disabled` lists them; the use cases log them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from dealerflow.contracts.care_enums import ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import (
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintSlaBreached,
)
from dealerflow.contracts.events.leads import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentScheduled,
    InvitationDeclined,
    LeadAssigned,
    LeadContacted,
    LeadConverted,
    LeadCreated,
    LeadGraded,
    LeadLost,
    LeadLostReviewed,
    LeadMerged,
    LeadUpdated,
)
from dealerflow.contracts.events.notifier import SurveyResponded, TaskCompleted
from dealerflow.contracts.events.sales import (
    ContractAmended,
    ContractCancelled,
    ContractSigned,
    DeliveryScheduled,
    DiscountApprovalDecided,
    DiscountApprovalRequested,
    ShowroomVisitRecorded,
    TestDriveCancelled,
    TestDriveCompleted,
    TestDriveScheduled,
    VehicleDelivered,
)
from dealerflow.contracts.events.service import (
    CustomerAtRisk,
    MaintenanceDue,
    PartStockLow,
    PartStockReplenished,
    RepairItemDeclined,
    RepairOrderOpened,
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
    VehicleHandedOver,
)
from dealerflow.notifier.domain_types import PlannedReminder, PlannedTask, StaffRole
from dealerflow.policy import DealerPolicy

#: Who a rule's item is for: a staff role, the customer (a message), or staff alerts.
Audience = StaffRole | Literal["customer"]
#: What a rule makes: a task, a customer message, or a staff alert (message to staff).
Makes = TaskKind | ReminderKind | Literal["staff_alert"]

#: How business and quiet hours move an item (`CareRule.hours`).
AT_ONCE = "due at once (the event's moment)"
WALL = "wall-clock offset, not moved"
QUIET_HOURS = "moved out of the contact policy's quiet hours"
SLA_CLOCK = "counted on the SLA's clock (business hours/days as the policy says)"
BUSINESS_DAY = "next business day"
SEND_TIME = "on its day at contact.reminder_send_time, moved out of quiet hours"


@dataclass(frozen=True, slots=True)
class RuleTiming:
    """A rule's timing for one dealer: the text with the effective numbers, and the
    policy keys (``group.field``) that change them with their current values."""

    text: str
    numbers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class CareRule:
    """One cadence of the care calendar."""

    key: str
    title: str
    makes: Makes
    who: Audience
    #: The events whose handler plans it (empty: only from ``also_from``).
    triggers: tuple[type[DomainEvent], ...]
    #: ``str.format`` text of the timing; ``{group.field}`` fields are policy keys.
    when: str
    hours: str
    cancels: tuple[type[DomainEvent], ...] = ()
    purpose: ConsentPurpose | None = None
    #: A search pattern on the business key when several rules make the same kind.
    key_pattern: str | None = None
    #: Other sources than events (a timer, a route, a task outcome), for the reader.
    also_from: str | None = None
    #: Events that move the open items to another assignee.
    moved_by: tuple[type[DomainEvent], ...] = ()
    #: False for what ``care.disabled`` cannot turn off (staff's own tasks, staff alerts).
    can_turn_off: bool = True

    @property
    def policy_keys(self) -> tuple[str, ...]:
        """The policy keys named in the timing text, in order."""
        return tuple(dict.fromkeys(re.findall(r"\{([a-z_]+\.[a-z_.]+)\}", self.when)))

    def timing(self, policy: DealerPolicy) -> RuleTiming:
        """The timing with the dealer's numbers."""
        numbers = {key: _text(_lookup(policy, key)) for key in self.policy_keys}
        text = re.sub(r"\{([a-z_]+\.[a-z_.]+)\}", lambda m: numbers[m.group(1)], self.when)
        return RuleTiming(text=text, numbers=numbers)

    def not_planned(self, planned: PlannedTask | PlannedReminder) -> str:
        """The log line of an item this rule, turned off, did not plan."""
        return f"dealer {planned.dealer_id}: care rule {self.key} is off, {planned.key} not planned"

    def matches(self, kind: TaskKind | ReminderKind, business_key: str) -> bool:
        """Whether a planned item of ``kind`` under ``business_key`` is this rule's."""
        if kind != self.makes:
            return False
        return self.key_pattern is None or re.search(self.key_pattern, business_key) is not None


def _lookup(policy: DealerPolicy, key: str) -> Any:
    value: Any = policy
    for part in key.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _text(value: Any) -> str:
    """A policy value as a reader wants it (durations in d/h/min, lists joined)."""
    if value is None:
        return "off"
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal | str):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(_text(v) for v in value) or "none"
    duration = getattr(value, "duration", None)
    if isinstance(duration, timedelta):  # SlaSpec
        return f"{_duration(duration)} ({getattr(value, 'mode', 'wall')})"
    first_contact = getattr(value, "first_contact", None)
    if first_contact is not None:  # FirstContactSla
        return _text(first_contact)
    return str(value)


_APPOINTMENT_ENDS = (AppointmentCancelled, AppointmentAttended, AppointmentNoShow)
_LEAD_ENDS = (LeadConverted, LeadLost, LeadMerged, ContractSigned)
_COMPLAINT_ENDS = (ComplaintResolved, ComplaintClosed)

CARE_CALENDAR: tuple[CareRule, ...] = (
    # -- leads (sales) --------------------------------------------------------------------
    CareRule(
        key="lead-first-contact",
        title="First contact of a new lead, with its SLA warning, escalation and reassign",
        makes=TaskKind.LEAD_FIRST_CONTACT,
        who=StaffRole.CONSULTANT,
        triggers=(LeadCreated,),
        when="within the channel's first-contact SLA ({leads.first_contact}); warning at "
        "{leads.warn_at_fraction} of it, reassigned after {leads.reassign_after_breaches} "
        "breaches",
        hours=SLA_CLOCK,
        cancels=(LeadContacted, *_LEAD_ENDS),
        moved_by=(LeadAssigned,),
    ),
    CareRule(
        key="lead-first-contact-escalation",
        title="Manager's task when a first contact (or another task) is overdue",
        makes=TaskKind.OTHER,
        who=StaffRole.SALES_MANAGER,
        triggers=(),
        when="when the first-contact watch fires on an open task, or "
        "{owner_care.task_overdue_escalate_after} past any task's due time",
        hours=AT_ONCE,
        cancels=(LeadContacted, *_LEAD_ENDS),
        also_from="the first-contact watch timers and the task-overdue timer",
    ),
    CareRule(
        key="lead-thank-you",
        title="Thank-you message to a walk-in or phone lead, or a first showroom visitor",
        makes=ReminderKind.THANK_YOU,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(LeadCreated, ShowroomVisitRecorded),
        when="at the end of the thank-you window of the lead class's SLA (walk-in: "
        "{leads.first_contact.walk_in.thank_you_message})",
        hours=QUIET_HOURS,
    ),
    CareRule(
        key="lead-follow-up",
        title="Sales follow-up call by grade (or on the date agreed at a contact)",
        makes=TaskKind.LEAD_FOLLOW_UP,
        who=StaffRole.CONSULTANT,
        triggers=(LeadGraded, LeadContacted, LeadUpdated),
        when="every {leads.follow_up_every} after the grading or latest contact; on the "
        "agreed date at {contact.reminder_send_time}",
        hours=WALL,
        cancels=(InvitationDeclined, *_LEAD_ENDS),
        moved_by=(LeadAssigned,),
    ),
    CareRule(
        key="lead-regrade",
        title="Re-grade prompt for a lead still H after its horizon",
        makes=TaskKind.LEAD_REGRADE,
        who=StaffRole.CONSULTANT,
        triggers=(LeadGraded, LeadUpdated),
        when="{leads.hot_regrade_after} after the H grading",
        hours=WALL,
        cancels=(InvitationDeclined, *_LEAD_ENDS),
    ),
    CareRule(
        key="lead-lost-review",
        title="Sales manager's review of a lost lead",
        makes=TaskKind.LEAD_LOST_REVIEW,
        who=StaffRole.SALES_MANAGER,
        triggers=(LeadLost,),
        when="at once",
        hours=AT_ONCE,
        cancels=(LeadLostReviewed, LeadGraded),
    ),
    CareRule(
        key="appointment-reminders",
        title="Reminders before a showroom appointment",
        makes=ReminderKind.APPOINTMENT,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(AppointmentScheduled, AppointmentRescheduled),
        when="{leads.appointment_reminders_before} before the start",
        hours=QUIET_HOURS,
        cancels=_APPOINTMENT_ENDS,
    ),
    CareRule(
        key="appointment-no-show",
        title="Consultant's call after a missed appointment",
        makes=TaskKind.APPOINTMENT_NO_SHOW,
        who=StaffRole.CONSULTANT,
        triggers=(AppointmentNoShow,),
        when="within the phone lead's first-contact SLA ({leads.first_contact})",
        hours=SLA_CLOCK,
    ),
    CareRule(
        key="test-drive-reminder",
        title="Reminder before a test drive",
        makes=ReminderKind.TEST_DRIVE,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(TestDriveScheduled, AppointmentScheduled, AppointmentRescheduled),
        when="{sales.test_drive_reminder_before} before the slot (an appointment of purpose "
        "test_drive: {leads.appointment_reminders_before})",
        hours=QUIET_HOURS,
        cancels=(TestDriveCancelled, *_APPOINTMENT_ENDS),
    ),
    CareRule(
        key="discount-approval",
        title="Approver's task for a discount above the threshold",
        makes=TaskKind.DISCOUNT_APPROVAL,
        who=StaffRole.SALES_MANAGER,
        triggers=(DiscountApprovalRequested,),
        when="at once (threshold {sales.discount_approval_threshold_rate}, approver "
        "{sales.discount_approver_role})",
        hours=AT_ONCE,
        cancels=(DiscountApprovalDecided,),
    ),
    # -- delivery and owner care ----------------------------------------------------------
    CareRule(
        key="delivery-reminders",
        title="Reminders before the agreed delivery",
        makes=ReminderKind.DELIVERY,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(DeliveryScheduled, AppointmentScheduled, AppointmentRescheduled),
        when="{leads.appointment_reminders_before} before the delivery",
        hours=QUIET_HOURS,
        cancels=(ContractAmended, ContractCancelled, *_APPOINTMENT_ENDS),
    ),
    CareRule(
        key="delivery-callback",
        title="Consultant's callback after the delivery (with a VIP's courtesy call)",
        makes=TaskKind.DELIVERY_CALLBACK,
        who=StaffRole.CONSULTANT,
        triggers=(VehicleDelivered,),
        when="{owner_care.callback_after_delivery} after the delivery (VIP courtesy call "
        "for the manager: {tiers.vip_manager_courtesy_calls})",
        hours=WALL,
        key_pattern=r":callback-24h",
    ),
    CareRule(
        key="delivery-satisfaction-callback",
        title="Customer relations' satisfaction callback after the delivery",
        makes=TaskKind.SATISFACTION_CALLBACK,
        who=StaffRole.CUSTOMER_RELATIONS,
        triggers=(VehicleDelivered,),
        when="{owner_care.satisfaction_after_delivery} after the delivery; with a survey "
        "link, only when the survey is unanswered after {owner_care.survey_link_valid_for}",
        hours=WALL,
        key_pattern=r":satisfaction-7d",
        also_from="the survey-expiry timer",
    ),
    CareRule(
        key="delivery-survey",
        title="Satisfaction survey link after the delivery",
        makes=ReminderKind.SATISFACTION_SURVEY,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(VehicleDelivered,),
        when="{owner_care.satisfaction_after_delivery} after the delivery, link valid "
        "{owner_care.survey_link_valid_for}",
        hours=QUIET_HOURS,
    ),
    CareRule(
        key="insurance-renewal",
        title="Insurance renewal reminder, every year",
        makes=ReminderKind.INSURANCE_RENEWAL,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(VehicleDelivered,),
        when="{owner_care.insurance_renewal_remind_before} before each anniversary of the delivery",
        hours=SEND_TIME,
        cancels=(ContractCancelled,),
        also_from="each one falling due plans the next year's",
    ),
    CareRule(
        key="annual-inspection",
        title="Annual vehicle inspection reminder (年检), years 2, 4, 6, 8, 10, then yearly",
        makes=ReminderKind.LICENCE_INSPECTION,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(VehicleDelivered,),
        when="{owner_care.inspection_remind_before} before the inspection, in the years "
        "{owner_care.inspection_due_years} after the delivery (the registration), then "
        "every year after {owner_care.inspection_yearly_after_years}",
        hours=SEND_TIME,
        cancels=(ContractCancelled,),
        also_from="each one falling due plans the next",
    ),
    CareRule(
        key="licence-renewal",
        title="Driving-licence renewal reminder (驾驶证换证)",
        makes=ReminderKind.LICENCE_RENEWAL,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(TestDriveCompleted,),
        when="{owner_care.licence_remind_before} before the licence's expiry recorded at a "
        "test drive (at once when that is past; none once expired)",
        hours=SEND_TIME,
        also_from="a later test drive with a renewed licence replaces it",
    ),
    CareRule(
        key="weather-tip",
        title="Bad-weather tip to every owner",
        makes=ReminderKind.WEATHER_TIP,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(),
        when="at once, at most one per owner every {owner_care.weather_tip_min_interval}",
        hours=QUIET_HOURS,
        also_from="POST /v1/weather-warnings (staff)",
    ),
    CareRule(
        key="plate-registration",
        title="Consultant's plate-registration task",
        makes=TaskKind.PLATE_REGISTRATION,
        who=StaffRole.CONSULTANT,
        triggers=(VehicleDelivered,),
        when="{sales.plate_registration_due_after} after the delivery (offered: "
        "{sales.plate_registration_assistance})",
        hours=WALL,
        cancels=(ContractCancelled,),
    ),
    CareRule(
        key="holiday-greeting",
        title="Holiday greetings to owners",
        makes=ReminderKind.HOLIDAY_GREETING,
        who="customer",
        purpose=ConsentPurpose.MARKETING,
        triggers=(VehicleDelivered,),
        when="the day before each holiday of owner_care.greetings at 10:00",
        hours=QUIET_HOURS,
        also_from="the dealer's greeting timer (VehicleDelivered only arms it)",
    ),
    CareRule(
        key="referral-invitation",
        title="Referral invitation to a satisfied owner",
        makes=ReminderKind.REFERRAL_INVITATION,
        who="customer",
        purpose=ConsentPurpose.MARKETING,
        triggers=(TaskCompleted, SurveyResponded),
        when="{owner_care.referral_invitation_after} after a satisfied callback or a "
        "survey scored 9 or more",
        hours=QUIET_HOURS,
    ),
    # -- after-sales ----------------------------------------------------------------------
    CareRule(
        key="service-appointment-reminder",
        title="Reminder before a service appointment",
        makes=ReminderKind.SERVICE_APPOINTMENT,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(ServiceAppointmentBooked,),
        when="{service.appointment_reminder_before} before the slot",
        hours=QUIET_HOURS,
        cancels=(ServiceAppointmentCancelled,),
    ),
    CareRule(
        key="maintenance-due",
        title="Maintenance reminder (the first after the sale and every next one)",
        makes=ReminderKind.MAINTENANCE_DUE,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(MaintenanceDue,),
        when="when service-center's MaintenanceDue comes (first at "
        "{owner_care.first_maintenance_km} km / {owner_care.first_maintenance_months} "
        "months, then every {service.maintenance_interval_km} km / "
        "{service.maintenance_interval_months} months)",
        hours=QUIET_HOURS,
        cancels=(RepairOrderOpened,),
    ),
    CareRule(
        key="maintenance-call",
        title="Advisors' call beside the maintenance reminder of a low after-sales tier",
        makes=TaskKind.RETENTION_CALL,
        who=StaffRole.ADVISOR,
        triggers=(MaintenanceDue,),
        when="when the reminder is sent (tiers {tiers.maintenance_call_service_tiers})",
        hours=QUIET_HOURS,
        cancels=(RepairOrderOpened,),
        key_pattern=r":maintenance-due:.*:call$",
    ),
    CareRule(
        key="service-callback",
        title="Advisor's callback after the vehicle was handed over",
        makes=TaskKind.SERVICE_CALLBACK,
        who=StaffRole.ADVISOR,
        triggers=(VehicleHandedOver,),
        when="{service.followup_after_handover} after the handover; unreachable on "
        "{service.unreachable_days_before_message} days: a message instead",
        hours=WALL,
    ),
    CareRule(
        key="service-unreachable-message",
        title="Message to a customer the service callback could not reach",
        makes=ReminderKind.SERVICE_FOLLOW_UP,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(),
        when="after the callback was unreachable on {service.unreachable_days_before_message} days",
        hours=QUIET_HOURS,
        also_from="a callback task completed unreachable (task outcome)",
    ),
    CareRule(
        key="declined-repair-follow-up",
        title="Advisor's follow-up of a declined repair item",
        makes=TaskKind.DECLINED_REPAIR_FOLLOW_UP,
        who=StaffRole.ADVISOR,
        triggers=(RepairItemDeclined,),
        when="on the date agreed, else {service.declined_item_followup_after} after the decline",
        hours=SEND_TIME,
    ),
    CareRule(
        key="retention-call",
        title="Advisor's retention call to an at-risk customer",
        makes=TaskKind.RETENTION_CALL,
        who=StaffRole.ADVISOR,
        triggers=(CustomerAtRisk,),
        when="at once when service-center says at risk ({service.at_risk_after_months} "
        "months) or lost ({service.lost_after_months} months)",
        hours=AT_ONCE,
        key_pattern=r"^retention-call:",
    ),
    CareRule(
        key="parts-reorder",
        title="Parts manager's reorder task",
        makes=TaskKind.PARTS_REORDER,
        who=StaffRole.PARTS_MANAGER,
        triggers=(PartStockLow,),
        when="at once when the stock falls to the reorder point",
        hours=AT_ONCE,
        cancels=(PartStockReplenished,),
    ),
    # -- complaints -----------------------------------------------------------------------
    CareRule(
        key="complaint-handling",
        title="Handler's task for a new or reopened complaint",
        makes=TaskKind.COMPLAINT_HANDLING,
        who=StaffRole.COMPLAINT_HANDLER,
        triggers=(ComplaintOpened, ComplaintReopened),
        when="due at the acknowledge deadline complaints computed (normal complaints: "
        "{complaints.sla.normal.acknowledge})",
        hours=SLA_CLOCK,
        cancels=_COMPLAINT_ENDS,
        moved_by=(ComplaintAssigned,),
    ),
    CareRule(
        key="complaint-received",
        title="'We received your complaint' message",
        makes=ReminderKind.COMPLAINT_UPDATE,
        who="customer",
        purpose=ConsentPurpose.SERVICE,
        triggers=(ComplaintOpened,),
        when="at once",
        hours=QUIET_HOURS,
    ),
    CareRule(
        key="complaint-breach-alert",
        title="Staff message to the handler when a complaint deadline passed",
        makes="staff_alert",
        who=StaffRole.COMPLAINT_HANDLER,
        triggers=(ComplaintSlaBreached,),
        when="at once",
        hours=AT_ONCE,
        can_turn_off=False,
    ),
    CareRule(
        key="complaint-escalation",
        title="Task (and message) for the rung a complaint is escalated to",
        makes=TaskKind.COMPLAINT_ESCALATION,
        who=StaffRole.DEPARTMENT_MANAGER,
        triggers=(ComplaintEscalated,),
        when="at once (ladder {complaints.escalation_ladder})",
        hours=AT_ONCE,
        cancels=(ComplaintAcknowledged, *_COMPLAINT_ENDS),
    ),
    CareRule(
        key="complaint-verification",
        title="Customer relations' verification callback after the resolution",
        makes=TaskKind.COMPLAINT_VERIFICATION,
        who=StaffRole.CUSTOMER_RELATIONS,
        triggers=(ComplaintResolved,),
        when="{complaints.verification_callback_after} after the resolution",
        hours=QUIET_HOURS,
        cancels=(ComplaintClosed,),
    ),
    CareRule(
        key="lead-breach-reassignment-alert",
        title="Staff messages to both consultants when a lead is reassigned after a breach",
        makes="staff_alert",
        who=StaffRole.CONSULTANT,
        triggers=(LeadAssigned,),
        when="at once",
        hours=AT_ONCE,
        can_turn_off=False,
    ),
    # -- staff's own ----------------------------------------------------------------------
    CareRule(
        key="manual-task",
        title="A task staff created themselves",
        makes=TaskKind.MANUAL,
        who=StaffRole.CONSULTANT,
        triggers=(),
        when="when the staff member says",
        hours=WALL,
        also_from="POST /v1/tasks",
        can_turn_off=False,
    ),
)

#: Rule keys of the calendar.
RULE_KEYS: frozenset[str] = frozenset(rule.key for rule in CARE_CALENDAR)

#: Events the routers handle only as facts for other rules (no task or message of their
#: own): the after-sales tier (maintenance-call) and the consent store (read at send
#: time). Customer tiers and contact snapshots also come from events that trigger rules.
FACT_FEEDERS: frozenset[str] = frozenset({"ServiceTierChanged", "ConsentChanged"})

_BY_KEY = {rule.key: rule for rule in CARE_CALENDAR}
_CAN_TURN_OFF = frozenset(rule.key for rule in CARE_CALENDAR if rule.can_turn_off)


def rule(key: str) -> CareRule:
    """The rule of ``key`` (KeyError for an unknown one)."""
    return _BY_KEY[key]


def rule_of(kind: TaskKind | ReminderKind, business_key: str) -> CareRule | None:
    """The rule a planned item of ``kind`` under ``business_key`` belongs to: the first
    rule of that kind whose key pattern matches (rules with a pattern come before a
    catch-all of the same kind). None for an item no rule names (escalation tasks
    keep to the rule of the task they escalate)."""
    candidates = [r for r in CARE_CALENDAR if r.matches(kind, business_key)]
    candidates.sort(key=lambda r: r.key_pattern is None)
    return candidates[0] if candidates else None


def unknown_disabled(policy: DealerPolicy) -> list[str]:
    """The dealer's ``care.disabled`` keys that name no rule that can be turned off
    (ignored)."""
    return [key for key in policy.care.disabled if key not in _CAN_TURN_OFF]


def turned_off(policy: DealerPolicy) -> frozenset[str]:
    """The keys of the rules the dealer turned off (``care.disabled`` less the keys that
    name no rule that can be turned off)."""
    return frozenset(policy.care.disabled) & _CAN_TURN_OFF


def is_off(rule_key: str, policy: DealerPolicy) -> bool:
    """Whether the dealer turned rule ``rule_key`` off (for a planner that must know
    before it plans, as the survey replacing the 7-day callback)."""
    return rule(rule_key).key in turned_off(policy)


def disabled_rule(planned: PlannedTask | PlannedReminder, policy: DealerPolicy) -> CareRule | None:
    """The rule of ``planned`` when the dealer turned it off, else None."""
    if not policy.care.disabled:
        return None
    found = rule_of(planned.kind, planned.key)
    return found if found is not None and found.key in turned_off(policy) else None


def triggered_by(event_type: str) -> list[CareRule]:
    """The rules an event of ``event_type`` (class name) triggers."""
    return [r for r in CARE_CALENDAR if any(t.__name__ == event_type for t in r.triggers)]


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """A rule as one dealer has it."""

    rule: CareRule
    enabled: bool
    timing: RuleTiming


def effective_calendar(policy: DealerPolicy) -> list[EffectiveRule]:
    """Every rule with the dealer's numbers and whether it is on."""
    off = turned_off(policy)
    return [EffectiveRule(r, r.key not in off, r.timing(policy)) for r in CARE_CALENDAR]
