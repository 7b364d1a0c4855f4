"""Reactions to the leads, sales, service and complaints topics (from any producer), and
to ConsentChanged on the notifier topic (`consent_router`).

Handlers are thin: map the event to the planner's facts and call one use case with the
HandlerContext (the use-case context of the batch's transaction; events published through
it are caused by the incoming one). They only touch the database through it (the runtime
may re-run them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dealerflow.contracts.care_enums import RecordKind
from dealerflow.contracts.enums import VisitKind
from dealerflow.contracts.envelope import Envelope
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
from dealerflow.contracts.events.notifier import ConsentChanged, SurveyResponded, TaskCompleted
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
    ServiceTierChanged,
    VehicleHandedOver,
)
from dealerflow.notifier import (
    usecases,
    usecases_alerts,
    usecases_appointments,
    usecases_approvals,
    usecases_complaints,
    usecases_consent,
    usecases_deliveries,
    usecases_greetings,
    usecases_handovers,
    usecases_inspections,
    usecases_leads,
    usecases_maintenance,
    usecases_parts,
    usecases_retention,
    usecases_sales,
    usecases_service_appointments,
    usecases_test_drives,
    usecases_tiers,
)
from dealerflow.notifier.domain import (
    AppointmentFacts,
    ComplaintEscalationFacts,
    ComplaintFinishedFacts,
    DeclinedItemFacts,
    DeliveryFacts,
    HandoverFacts,
    LeadAssignmentFacts,
    LeadClosedFacts,
    LeadContactFacts,
    LeadFacts,
    LeadGradeFacts,
    RecordRef,
    appointment_reminder_kind,
)
from dealerflow.notifier.domain_alerts import BreachReassignment
from dealerflow.notifier.domain_appointments import (
    AppointmentEndFacts,
    AppointmentMoveFacts,
    NoShowFacts,
)
from dealerflow.notifier.domain_approvals import ApprovalRequestFacts
from dealerflow.notifier.domain_complaints import ComplaintBreachFacts, ComplaintOpenedFacts
from dealerflow.notifier.domain_consent import ConsentChange
from dealerflow.notifier.domain_deliveries import (
    delivery_date_moved,
    record_of_contract,
)
from dealerflow.notifier.domain_inspections import LicenceFacts
from dealerflow.notifier.domain_maintenance import MaintenanceDueFacts
from dealerflow.notifier.domain_parts import StockLowFacts
from dealerflow.notifier.domain_retention import AtRiskFacts
from dealerflow.notifier.domain_service_appointments import record_of_service_appointment
from dealerflow.notifier.domain_test_drives import record_of_test_drive
from dealerflow.notifier.domain_tiers import (
    ConversionFacts,
    ReferralFacts,
    ServicePaidFacts,
)
from dealerflow.notifier.domain_types import (
    InvitationDeclinedFacts,
    LeadLostFacts,
    LeadMergeFacts,
    LeadUpdateFacts,
)
from dealerflow.runtime.consumer import BatchContext, EventRouter, HandlerContext

router = EventRouter()


@router.on_batch(LeadCreated)
async def leads_created(bctx: BatchContext, envs: Sequence[Envelope[Any]]) -> None:
    """First-contact tasks (and referrals), set-based over the run of new leads (one
    event: a batch of one)."""
    leads = []
    for hctx, env in zip(bctx.event_contexts(), envs, strict=True):
        event: LeadCreated = env.event
        facts = LeadFacts(
            dealer_id=event.dealer_id,
            customer_id=event.customer_id,
            lead_id=event.lead_id,
            channel=event.channel.value,
            created_at=event.created_at,
            consultant_id=event.consultant_id,
            thank_you=not usecases_sales.thanked_at_the_visit(event.submission_id),
        )
        referral = (
            ReferralFacts(
                event.dealer_id, event.referrer_customer_id, event.customer_id, event.lead_id
            )
            if event.referrer_customer_id is not None
            else None
        )
        leads.append(usecases_leads.NewLead(hctx, facts, event.contact, referral))
    await usecases_leads.on_leads_created(leads)


@router.on(LeadContacted)
async def lead_contacted(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadContacted = env.event
    facts = LeadContactFacts(
        dealer_id=event.dealer_id,
        lead_id=event.lead_id,
        consultant_id=event.consultant_id,
        outcome=event.outcome,
        contacted_at=event.contacted_at,
        customer_id=event.customer_id,
        grade_after=event.grade_after.value if event.grade_after else None,
        next_contact_on=event.next_contact_on,
    )
    await usecases_leads.on_lead_contacted(hctx, facts)


@router.on(LeadUpdated)
async def lead_updated(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadUpdated = env.event
    facts = LeadUpdateFacts(
        event.dealer_id, event.customer_id, event.lead_id, event.reason.value, event.updated_at
    )
    await usecases_leads.on_lead_updated(hctx, facts, event.contact)


@router.on(InvitationDeclined)
async def invitation_declined(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: InvitationDeclined = env.event
    facts = InvitationDeclinedFacts(
        event.dealer_id, event.customer_id, event.lead_id, event.declined_at
    )
    await usecases_leads.on_invitation_declined(hctx, facts)


@router.on(LeadAssigned)
async def lead_assigned(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadAssigned = env.event
    facts = LeadAssignmentFacts(event.dealer_id, event.lead_id, event.consultant_id)
    await usecases_leads.on_lead_assigned(hctx, facts)


@router.on(LeadAssigned)
async def lead_reassigned_after_breach(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadAssigned = env.event
    moved = BreachReassignment(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        lead_id=event.lead_id,
        consultant_id=event.consultant_id,
        previous_consultant_id=event.previous_consultant_id,
        reason=event.reason.value,
        assigned_at=event.assigned_at,
    )
    await usecases_alerts.tell_consultants_of_breach_reassignment(hctx, moved)


@router.on(LeadGraded)
async def lead_graded(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadGraded = env.event
    facts = LeadGradeFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        lead_id=event.lead_id,
        grade=event.grade.value,
        graded_at=event.graded_at,
        consultant_id=event.consultant_id,
    )
    await usecases_leads.on_lead_graded(hctx, facts)


@router.on(AppointmentScheduled)
async def appointment_scheduled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: AppointmentScheduled = env.event
    facts = AppointmentFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=RecordRef(RecordKind.APPOINTMENT, event.appointment_id),
        starts_at=event.scheduled_for,
        reminder_kind=appointment_reminder_kind(event.purpose.value),
        location=event.location,
    )
    await usecases_leads.on_appointment_scheduled(hctx, facts, event.contact, event.occurred_at)


@router.on(LeadConverted)
async def lead_converted(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadConverted = env.event
    await usecases_leads.on_lead_closed(hctx, LeadClosedFacts(event.dealer_id, event.lead_id))


@router.on(LeadLostReviewed)
async def lead_lost_reviewed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadLostReviewed = env.event
    await usecases_leads.on_lead_lost_reviewed(hctx, event.dealer_id, event.lead_id)


@router.on(LeadMerged)
async def lead_merged(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadMerged = env.event
    facts = LeadMergeFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        lead_id=event.lead_id,
        merged_lead_ids=tuple(event.merged_lead_ids),
        merged_customer_ids=tuple(event.merged_customer_ids),
    )
    await usecases_leads.on_lead_merged(hctx, facts)


@router.on(LeadLost)
async def lead_lost(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadLost = env.event
    facts = LeadLostFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        lead_id=event.lead_id,
        reason=event.reason.value,
        lost_at=event.lost_at,
        consultant_id=event.consultant_id,
    )
    await usecases_leads.on_lead_lost(hctx, facts)


@router.on_batch(VehicleDelivered)
async def vehicles_delivered(bctx: BatchContext, envs: Sequence[Envelope[Any]]) -> None:
    """Owner care, tier purchase and the dealer's greeting, set-based over the run of
    deliveries (one event: a batch of one)."""
    deliveries = []
    for hctx, env in zip(bctx.event_contexts(), envs, strict=True):
        event: VehicleDelivered = env.event
        facts = DeliveryFacts(
            dealer_id=event.dealer_id,
            customer_id=event.customer_id,
            delivery_id=event.delivery_id,
            delivered_at=event.delivered_at,
            consultant_id=event.consultant_id,
            odometer_km=event.odometer_km,
            contract_id=event.contract_id,
        )
        deliveries.append(usecases_deliveries.Delivered(hctx, facts, event.contact))
    await usecases_deliveries.on_vehicles_delivered(deliveries)


@router.on_batch(VehicleHandedOver)
async def vehicles_handed_over(bctx: BatchContext, envs: Sequence[Envelope[Any]]) -> None:
    """The advisor's follow-up and the service spend for the tier, set-based over the run
    of handovers (one event: a batch of one)."""
    handovers = []
    for hctx, env in zip(bctx.event_contexts(), envs, strict=True):
        event: VehicleHandedOver = env.event
        paid = event.amount_paid
        handover = HandoverFacts(
            dealer_id=event.dealer_id,
            customer_id=event.customer_id,
            repair_order_id=event.repair_order_id,
            handed_over_at=event.handed_over_at,
            advisor_id=event.advisor_id,
        )
        spend = ServicePaidFacts(
            dealer_id=event.dealer_id,
            customer_id=event.customer_id,
            repair_order_id=event.repair_order_id,
            handed_over_at=event.handed_over_at,
            amount=paid.amount if paid else None,
            currency=paid.currency if paid else None,
        )
        handovers.append(usecases_handovers.HandedOver(hctx, handover, event.contact, spend))
    await usecases_handovers.on_vehicles_handed_over(handovers)


@router.on(RepairItemDeclined)
async def repair_item_declined(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: RepairItemDeclined = env.event
    facts = DeclinedItemFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        repair_order_id=event.repair_order_id,
        item_id=event.item.item_id,
        item_description=event.item.description,
        declined_at=event.declined_at,
        advisor_id=event.advisor_id,
        follow_up_on=event.follow_up_on,
    )
    await usecases.on_repair_item_declined(hctx, facts)


@router.on(ComplaintOpened)
async def complaint_opened(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintOpened = env.event
    await usecases_complaints.on_complaint_opened(hctx, _opened_facts(event), event.contact)


def _opened_facts(event: ComplaintOpened) -> ComplaintOpenedFacts:
    return ComplaintOpenedFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        complaint_id=event.complaint_id,
        handler_id=event.handler_id,
        severity=event.severity.value,
        summary=event.summary,
        opened_at=event.opened_at,
        acknowledge_due_at=event.acknowledge_due_at,
        resolve_due_at=event.resolve_due_at,
        first_update_due_at=event.first_update_due_at,
    )


@router.on(ComplaintReopened)
async def complaint_reopened(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintReopened = env.event
    facts = ComplaintOpenedFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        complaint_id=event.complaint_id,
        handler_id=event.handler_id,
        severity="reopened",
        summary=event.reason,
        opened_at=event.reopened_at,
        reopen_count=event.reopen_count,
    )
    await usecases_complaints.on_complaint_reopened(hctx, facts)


@router.on(ComplaintAcknowledged)
async def complaint_acknowledged(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintAcknowledged = env.event
    await usecases_complaints.on_complaint_acknowledged(hctx, event.dealer_id, event.complaint_id)


@router.on(ComplaintAssigned)
async def complaint_assigned(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintAssigned = env.event
    await usecases_complaints.on_complaint_assigned(
        hctx, event.dealer_id, event.complaint_id, event.handler_id
    )


@router.on(ComplaintSlaBreached)
async def complaint_sla_breached(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintSlaBreached = env.event
    facts = ComplaintBreachFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        complaint_id=event.complaint_id,
        handler_id=event.handler_id,
        clock=event.clock.value,
        severity=event.severity.value,
        due_at=event.due_at,
        breached_at=event.breached_at,
    )
    await usecases_complaints.on_complaint_breached(hctx, facts)


@router.on(ComplaintEscalated)
async def complaint_escalated(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintEscalated = env.event
    facts = ComplaintEscalationFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        complaint_id=event.complaint_id,
        level=event.level,
        role=event.to_role.value,
        clock=event.clock.value,
        escalated_at=event.escalated_at,
        to_staff_id=event.to_staff_id,
        due_at=event.due_at,
    )
    await usecases_complaints.on_complaint_escalated(hctx, facts, event.severity.value)


@router.on(ComplaintResolved)
async def complaint_resolved(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintResolved = env.event
    facts = ComplaintFinishedFacts(event.dealer_id, event.complaint_id)
    await usecases_complaints.on_complaint_resolved(
        hctx, facts, event.customer_id, event.resolved_at
    )


@router.on(ComplaintClosed)
async def complaint_closed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintClosed = env.event
    facts = ComplaintFinishedFacts(event.dealer_id, event.complaint_id)
    await usecases_complaints.on_complaint_finished(hctx, facts)


@router.on(AppointmentRescheduled)
async def appointment_rescheduled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: AppointmentRescheduled = env.event
    facts = AppointmentMoveFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=RecordRef(RecordKind.APPOINTMENT, event.appointment_id),
        previous_starts_at=event.previous_scheduled_for,
        starts_at=event.scheduled_for,
        reminder_kind=appointment_reminder_kind(event.purpose.value) if event.purpose else None,
        location=event.location,
    )
    await usecases_appointments.on_appointment_rescheduled(hctx, facts)


@router.on(AppointmentCancelled, AppointmentAttended)
async def appointment_ended(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: AppointmentCancelled | AppointmentAttended = env.event
    record = RecordRef(RecordKind.APPOINTMENT, event.appointment_id)
    await usecases_appointments.on_appointment_ended(
        hctx, AppointmentEndFacts(event.dealer_id, record)
    )


@router.on(AppointmentNoShow)
async def appointment_no_show(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: AppointmentNoShow = env.event
    facts = NoShowFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=RecordRef(RecordKind.APPOINTMENT, event.appointment_id),
        lead_id=event.lead_id,
        consultant_id=event.consultant_id,
        scheduled_for=event.scheduled_for,
        recorded_at=event.recorded_at,
    )
    await usecases_appointments.on_appointment_no_show(hctx, facts)


@router.on(DiscountApprovalRequested)
async def discount_approval_requested(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: DiscountApprovalRequested = env.event
    facts = ApprovalRequestFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        approval_id=event.approval_id,
        quote_id=event.quote_id,
        approver_id=event.approver_id,
        requested_discount=f"{event.requested_discount.amount} {event.requested_discount.currency}",
        policy_threshold=f"{event.policy_threshold.amount} {event.policy_threshold.currency}",
        requested_at=event.requested_at,
    )
    await usecases_approvals.on_discount_approval_requested(hctx, facts)


@router.on(DiscountApprovalDecided)
async def discount_approval_decided(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: DiscountApprovalDecided = env.event
    await usecases_approvals.on_discount_approval_decided(hctx, event.dealer_id, event.approval_id)


@router.on(ShowroomVisitRecorded)
async def showroom_visit_recorded(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ShowroomVisitRecorded = env.event
    facts = usecases_sales.VisitFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        visit_id=event.visit_id,
        first_visit=event.visit_kind is VisitKind.FIRST,
        arrived_at=event.arrived_at,
        lead_id=event.lead_id,
    )
    await usecases_sales.on_showroom_visit(hctx, facts, event.contact)


@router.on(ContractSigned)
async def contract_signed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ContractSigned = env.event
    await usecases_sales.on_contract_signed(hctx, event.dealer_id, event.lead_id)


@router.on(TestDriveScheduled)
async def test_drive_scheduled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: TestDriveScheduled = env.event
    facts = AppointmentFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=record_of_test_drive(event.test_drive_id),
        starts_at=event.scheduled_start,
    )
    await usecases_test_drives.on_test_drive_scheduled(
        hctx, facts, event.contact, event.occurred_at
    )


@router.on(TestDriveCompleted)
async def test_drive_completed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: TestDriveCompleted = env.event
    if event.licence_valid_until is not None:
        licence = LicenceFacts(event.dealer_id, event.customer_id, event.licence_valid_until)
        await usecases_inspections.on_licence_checked(hctx, licence)


@router.on(TestDriveCancelled)
async def test_drive_cancelled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: TestDriveCancelled = env.event
    record = record_of_test_drive(event.test_drive_id)
    await usecases_test_drives.on_test_drive_cancelled(hctx, event.dealer_id, record)


@router.on(DeliveryScheduled)
async def delivery_scheduled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: DeliveryScheduled = env.event
    facts = AppointmentFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=record_of_contract(event.contract_id),
        starts_at=event.scheduled_for,
        location=event.location,
    )
    await usecases_deliveries.on_delivery_scheduled(hctx, facts, event.contact, event.occurred_at)


@router.on(ContractAmended)
async def contract_amended(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ContractAmended = env.event
    if delivery_date_moved(event.changed_fields):
        await usecases_deliveries.withdraw_delivery_reminders(
            hctx, event.dealer_id, event.contract_id
        )


@router.on(ContractCancelled)
async def contract_cancelled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ContractCancelled = env.event
    await usecases_deliveries.on_contract_cancelled(hctx, event.dealer_id, event.contract_id)


@router.on(PartStockLow)
async def part_stock_low(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: PartStockLow = env.event
    facts = StockLowFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        part_number=event.part_number,
        description=event.description,
        on_hand=event.on_hand,
        reorder_point=event.reorder_point,
        detected_at=event.detected_at,
    )
    await usecases_parts.on_part_stock_low(hctx, facts)


@router.on(PartStockReplenished)
async def part_stock_replenished(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: PartStockReplenished = env.event
    await usecases_parts.on_part_stock_replenished(hctx, event.dealer_id, event.part_number)


@router.on(CustomerAtRisk)
async def customer_at_risk(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: CustomerAtRisk = env.event
    facts = AtRiskFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        level=event.level.value,
        vin=event.vin,
        last_visit_at=event.last_visit_at,
        months_since_last_visit=event.months_since_last_visit,
        tier=event.tier.value,
        advisor_id=event.advisor_id,
        detected_at=event.detected_at,
    )
    await usecases_retention.on_customer_at_risk(hctx, facts)


@router.on(ServiceAppointmentBooked)
async def service_appointment_booked(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ServiceAppointmentBooked = env.event
    facts = AppointmentFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        record=record_of_service_appointment(event.service_appointment_id),
        starts_at=event.slot_start,
    )
    await usecases_service_appointments.on_service_appointment_booked(
        hctx, facts, event.contact, event.occurred_at
    )


@router.on(ServiceAppointmentCancelled)
async def service_appointment_cancelled(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ServiceAppointmentCancelled = env.event
    await usecases_service_appointments.on_service_appointment_cancelled(
        hctx, event.dealer_id, event.service_appointment_id
    )


@router.on(MaintenanceDue)
async def maintenance_due(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: MaintenanceDue = env.event
    facts = MaintenanceDueFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        vin=event.vin,
        due_on=event.due_on,
        due_km=event.due_km,
        reason=event.reason,
    )
    await usecases_maintenance.on_maintenance_due(hctx, facts, event.contact, event.occurred_at)


@router.on(RepairOrderOpened)
async def repair_order_opened(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: RepairOrderOpened = env.event
    await usecases_maintenance.on_vehicle_checked_in(hctx, event.dealer_id, event.vin)


# -- customer tiers (usecases_tiers): converted referrals (purchases, paid service visits
# and referrals: `vehicles_delivered`, `vehicles_handed_over`, `leads_created`)


@router.on(LeadConverted)
async def tier_referral_converted(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadConverted = env.event
    facts = ConversionFacts(event.dealer_id, event.lead_id, event.converted_at)
    await usecases_tiers.on_lead_converted(hctx, facts)


@router.on(ServiceTierChanged)
async def service_tier_changed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ServiceTierChanged = env.event
    facts = usecases_tiers.ServiceTierFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        tier=event.tier,
        visits_last_12_months=event.visits_last_12_months,
        changed_at=event.changed_at,
    )
    await usecases_tiers.on_service_tier_changed(hctx, facts)


# -- consent (usecases_consent): ConsentChanged of any system, on the notifier topic ------


#: Router of the ``consent`` subscription (the notifier topic): the ConsentChanged of
#: other systems join the consent store; our own, read back, are kept once. A satisfied
#: owner's TaskCompleted or SurveyResponded (ours or an outside survey tool's) brings the
#: referral invitation (once per delivery).
consent_router = EventRouter()


@consent_router.on(ConsentChanged)
async def consent_changed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ConsentChanged = env.event
    change = ConsentChange(
        consent_id=event.consent_id,
        purpose=event.purpose,
        channel=event.channel,
        granted=event.granted,
        source=event.source,
        changed_at=event.changed_at,
    )
    await usecases_consent.on_consent_changed(hctx, event.dealer_id, event.customer_id, change)


# -- open complaints (usecases_consent): marketing is suppressed while one is open ---------


@router.on(ComplaintOpened)
async def complaint_opened_suppresses_marketing(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintOpened = env.event
    await usecases_consent.on_complaint_opened(
        hctx, event.dealer_id, event.customer_id, event.complaint_id, event.opened_at
    )


@router.on(ComplaintReopened)
async def complaint_reopened_suppresses_marketing(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintReopened = env.event
    await usecases_consent.on_complaint_opened(
        hctx,
        event.dealer_id,
        event.customer_id,
        event.complaint_id,
        event.reopened_at,
        reopening=True,
    )


@router.on(ComplaintClosed)
async def complaint_closed_lifts_suppression(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintClosed = env.event
    await usecases_consent.on_complaint_closed(
        hctx, event.dealer_id, event.customer_id, event.complaint_id, event.closed_at
    )


@consent_router.on(TaskCompleted)
async def referral_after_callback(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: TaskCompleted = env.event
    done = usecases_greetings.CallbackOutcome(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        kind=event.kind,
        outcome=event.outcome,
        related=event.related,
        completed_at=event.completed_at,
    )
    await usecases_greetings.on_callback_completed(hctx, done)


@consent_router.on(SurveyResponded)
async def referral_after_survey(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: SurveyResponded = env.event
    answer = usecases_greetings.SurveyAnswer(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        kind=event.kind,
        score=event.score,
        related=event.related,
        responded_at=event.responded_at,
    )
    await usecases_greetings.on_survey_answered(hctx, answer)
