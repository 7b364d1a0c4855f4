"""A valid, realistic example of every event: used by tests, embedded in the AsyncAPI
document and in docs/events.md. One fictional customer (张伟, Zhang Wei) at dealer
"sh-pudong-01" of group "acme-auto" goes through the whole lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from dealerflow.contracts import care_enums as ce
from dealerflow.contracts import enums as en
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot, RelatedRecord
from dealerflow.contracts.events import ALL_EVENTS, DomainEvent
from dealerflow.contracts.events import complaints as cp
from dealerflow.contracts.events import leads as ld
from dealerflow.contracts.events import notifier as nt
from dealerflow.contracts.events import sales as sl
from dealerflow.contracts.events import service as sv
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.types import Money

__all__ = ["CUSTOMER_ID", "DEALER_ID", "EXAMPLES", "example_for"]

E = TypeVar("E", bound=DomainEvent)

DEALER_ID = "sh-pudong-01"
PHONE = "+8613800138000"
CUSTOMER_ID = customer_id_for("acme-auto", PHONE)
VIN = "LGXC16DF3N0123456"
CONSULTANT = "c-li-na"
ADVISOR = "a-wang-qiang"

CONTACT = ContactSnapshot(
    name="张伟",
    phone=PHONE,
    email="zhang.wei@example.cn",
    preferred_channel=en.ContactChannel.WECHAT,
    consent=ConsentSnapshot(service=True, marketing=False),
    locale=en.Locale.ZH_CN,
)


def _t(day: int, hour: int = 2, minute: int = 0) -> datetime:
    """A UTC time in March 2026 (10:00 Beijing time is 02:00 UTC)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _cny(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="CNY")


_COMMON: dict[str, Any] = {"dealer_id": DEALER_ID, "customer_id": CUSTOMER_ID}
_INTEREST = ld.LeadInterest(
    models=["Seal", "Han EV"],
    vehicle_type=en.VehicleType.NEV,
    budget_min=_cny("180000.00"),
    budget_max=_cny("250000.00"),
    use=en.VehicleUse.FAMILY,
    current_vehicle="Volkswagen Lavida 2016",
    purchase_horizon=en.PurchaseHorizon.WITHIN_30_DAYS,
)
_VEHICLE = sl.ContractVehicle(model="Seal", configuration="650 AWD", colour="Aurora White", vin=VIN)
_LOAN = sl.PaymentPlan(
    method="loan",
    down_payment=_cny("60000.00"),
    loan_amount=_cny("149800.00"),
    term_months=36,
    annual_rate_percent=Decimal("3.85"),
)
_BRAKES = sv.RepairItem(
    item_id="ro-881-2",
    kind=en.RepairItemKind.PART,
    description="Front brake pads (set)",
    part_number="BYD-BP-6100",
    quantity=1,
    amount=_cny("680.00"),
)
_LABOUR = sv.RepairItem(
    item_id="ro-881-1",
    kind=en.RepairItemKind.LABOUR,
    description="5,000 km maintenance",
    labour_hours=Decimal("1.5"),
    amount=_cny("270.00"),
)
_RO = "ro-881"


def _leads() -> list[DomainEvent]:
    return [
        ld.LeadCreated(
            **_COMMON,
            occurred_at=_t(1),
            lead_id="lead-1001",
            channel=en.LeadChannel.ONLINE,
            source=en.LeadSource.AUTO_PORTAL,
            source_detail="autohome.com.cn",
            consultant_id=CONSULTANT,
            created_at=_t(1),
            interest=_INTEREST,
            contact=CONTACT,
            submission_id="sub-77f0",
        ),
        ld.LeadUpdated(
            **_COMMON,
            occurred_at=_t(2),
            lead_id="lead-1001",
            reason=en.LeadUpdateReason.NEW_TOUCH,
            changed_fields=["interest.models"],
            touch_channel=en.LeadChannel.PHONE,
            touch_source=en.LeadSource.HOTLINE,
            interest=_INTEREST,
            updated_at=_t(2),
        ),
        ld.LeadGraded(
            **_COMMON,
            occurred_at=_t(2, 3),
            lead_id="lead-1001",
            grade=en.LeadGrade.A,
            previous_grade=en.LeadGrade.N,
            consultant_id=CONSULTANT,
            graded_at=_t(2, 3),
            note="Wants to order before the Qingming holiday",
        ),
        ld.LeadAssigned(
            **_COMMON,
            occurred_at=_t(1, 2, 1),
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            reason=en.AssignmentReason.INITIAL,
            assigned_at=_t(1, 2, 1),
        ),
        ld.LeadContacted(
            **_COMMON,
            occurred_at=_t(1, 2, 10),
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            contacted_at=_t(1, 2, 10),
            channel=en.ContactChannel.PHONE,
            outcome=en.ContactOutcome.REACHED,
            grade_after=en.LeadGrade.B,
            next_contact_on=date(2026, 3, 4),
            notes="Interested in Seal AWD; asked about trade-in of the Lavida",
        ),
        ld.AppointmentScheduled(
            **_COMMON,
            occurred_at=_t(2, 3, 5),
            appointment_id="appt-501",
            lead_id="lead-1001",
            purpose=en.AppointmentPurpose.TEST_DRIVE,
            scheduled_for=_t(7, 6),
            consultant_id=CONSULTANT,
            contact=CONTACT,
        ),
        ld.AppointmentRescheduled(
            **_COMMON,
            occurred_at=_t(5),
            appointment_id="appt-501",
            lead_id="lead-1001",
            previous_scheduled_for=_t(7, 6),
            scheduled_for=_t(8, 2),
            reason="Customer works on Saturday",
        ),
        ld.AppointmentCancelled(
            **_COMMON,
            occurred_at=_t(6),
            appointment_id="appt-502",
            lead_id="lead-1001",
            cancelled_by=en.CancelledBy.CUSTOMER,
            cancelled_at=_t(6),
        ),
        ld.AppointmentAttended(
            **_COMMON,
            occurred_at=_t(8, 2, 5),
            appointment_id="appt-501",
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            attended_at=_t(8, 2, 5),
        ),
        ld.AppointmentNoShow(
            **_COMMON,
            occurred_at=_t(9, 4),
            appointment_id="appt-503",
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            scheduled_for=_t(9, 3),
            recorded_at=_t(9, 4),
        ),
        ld.InvitationDeclined(
            **_COMMON,
            occurred_at=_t(3),
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            declined_at=_t(3),
            reason="Too busy this month",
        ),
        ld.LeadLost(
            **_COMMON,
            occurred_at=_t(20),
            lead_id="lead-1002",
            reason=en.LostReason.BOUGHT_ELSEWHERE,
            reason_note="Bought a Tesla Model 3",
            consultant_id=CONSULTANT,
            lost_at=_t(20),
        ),
        ld.LeadConverted(
            **_COMMON,
            occurred_at=_t(10, 8),
            lead_id="lead-1001",
            contract_id="ct-2026-0310",
            consultant_id=CONSULTANT,
            converted_at=_t(10, 8),
        ),
        ld.LeadMerged(
            **_COMMON,
            occurred_at=_t(4),
            lead_id="lead-1001",
            merged_lead_ids=["lead-0999"],
            merged_customer_ids=[customer_id_for("acme-auto", "+8613900139000")],
            merged_at=_t(4),
        ),
    ]


def _sales() -> list[DomainEvent]:
    return [
        sl.ShowroomVisitRecorded(
            **_COMMON,
            occurred_at=_t(8, 2),
            visit_id="visit-3001",
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            arrived_at=_t(8, 2),
            party_size=3,
            visit_kind=en.VisitKind.FIRST,
            duration_minutes=95,
            contact=CONTACT,
        ),
        sl.TestDriveScheduled(
            **_COMMON,
            occurred_at=_t(8, 2, 20),
            test_drive_id="td-88",
            lead_id="lead-1001",
            vehicle_id="td-car-seal-01",
            model="Seal",
            scheduled_start=_t(8, 3),
            scheduled_end=_t(8, 3, 30),
            consultant_id=CONSULTANT,
            route="Century Avenue loop",
            contact=CONTACT,
        ),
        sl.TestDriveCompleted(
            **_COMMON,
            occurred_at=_t(8, 3, 35),
            test_drive_id="td-88",
            lead_id="lead-1001",
            vehicle_id="td-car-seal-01",
            model="Seal",
            consultant_id=CONSULTANT,
            started_at=_t(8, 3, 2),
            ended_at=_t(8, 3, 31),
            licence_checked=True,
            consent_signed=True,
            feedback_rating=5,
            feedback="Quiet and quick; wants the AWD version",
        ),
        sl.QuoteIssued(
            **_COMMON,
            occurred_at=_t(8, 4),
            quote_id="q-4410",
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            vehicle=_VEHICLE,
            new_energy=True,
            vehicle_price=_cny("219800.00"),
            discount=_cny("10000.00"),
            purchase_tax=_cny("0.00"),
            insurance=_cny("6800.00"),
            registration_fee=_cny("500.00"),
            accessories=_cny("2000.00"),
            extended_warranty=_cny("3000.00"),
            total=_cny("222100.00"),
            payment=_LOAN,
            discount_needs_approval=True,
            valid_until=date(2026, 3, 15),
            issued_at=_t(8, 4),
        ),
        sl.DiscountApprovalRequested(
            **_COMMON,
            occurred_at=_t(8, 4, 1),
            approval_id="appr-12",
            quote_id="q-4410",
            consultant_id=CONSULTANT,
            approver_id="m-zhou",
            requested_discount=_cny("10000.00"),
            policy_threshold=_cny("8000.00"),
            requested_at=_t(8, 4, 1),
        ),
        sl.ContractSigned(
            **_COMMON,
            occurred_at=_t(10, 8),
            contract_id="ct-2026-0310",
            quote_id="q-4410",
            lead_id="lead-1001",
            consultant_id=CONSULTANT,
            vehicle=_VEHICLE,
            price=_cny("209800.00"),
            payment=_LOAN,
            planned_delivery_on=date(2026, 3, 20),
            identity_verified=True,
            signed_at=_t(10, 8),
            contact=CONTACT,
        ),
        sl.ContractAmended(
            **_COMMON,
            occurred_at=_t(12),
            contract_id="ct-2026-0310",
            contract_version=2,
            changed_fields=["vehicle.colour"],
            vehicle=_VEHICLE.model_copy(update={"colour": "Arctic Blue"}),
            price=_cny("209800.00"),
            payment=_LOAN,
            planned_delivery_on=date(2026, 3, 22),
            reason="Customer changed colour",
            amended_at=_t(12),
        ),
        sl.ContractCancelled(
            **_COMMON,
            occurred_at=_t(13),
            contract_id="ct-2026-0299",
            reason="Loan not approved",
            refund_due=_cny("5000.00"),
            cancelled_at=_t(13),
        ),
        sl.PaymentReceived(
            **_COMMON,
            occurred_at=_t(10, 8, 30),
            payment_id="pay-771",
            contract_id="ct-2026-0310",
            kind=en.PaymentKind.DEPOSIT,
            method=en.PaymentMethod.WECHAT_PAY,
            amount=_cny("5000.00"),
            confirmed_by_finance=True,
            received_at=_t(10, 8, 30),
        ),
        sl.RefundIssued(
            **_COMMON,
            occurred_at=_t(14),
            refund_id="ref-31",
            contract_id="ct-2026-0299",
            payment_id="pay-700",
            amount=_cny("5000.00"),
            reason="Contract cancelled: loan not approved",
            refunded_at=_t(14),
        ),
        sl.InvoiceIssued(
            **_COMMON,
            occurred_at=_t(21),
            invoice_id="inv-5501",
            contract_id="ct-2026-0310",
            invoice_number="031002600111 08812345",
            invoice_title="张伟",
            amount=_cny("209800.00"),
            tax_amount=_cny("24136.28"),
            issued_at=_t(21),
        ),
        sl.DeliveryScheduled(
            **_COMMON,
            occurred_at=_t(15),
            delivery_id="dlv-601",
            contract_id="ct-2026-0310",
            vin=VIN,
            model="Seal",
            scheduled_for=_t(22, 6),
            location="Delivery hall, 2F",
            consultant_id=CONSULTANT,
            contact=CONTACT,
        ),
        sl.VehicleDelivered(
            **_COMMON,
            occurred_at=_t(22, 7),
            delivery_id="dlv-601",
            contract_id="ct-2026-0310",
            vin=VIN,
            model="Seal",
            delivered_at=_t(22, 7),
            consultant_id=CONSULTANT,
            odometer_km=12,
            documents=list(en.DeliveryDocument),
            contact=CONTACT,
        ),
    ]


def _service() -> list[DomainEvent]:
    return [
        sv.ServiceAppointmentBooked(
            **_COMMON,
            occurred_at=_t(25),
            service_appointment_id="sa-210",
            vin=VIN,
            work_type=en.ServiceWorkType.MAINTENANCE,
            intake_channel=en.IntakeChannel.ONLINE,
            slot_start=_t(28, 1),
            slot_end=_t(28, 3),
            advisor_id=ADVISOR,
            concerns=["Squeak from front brakes"],
            contact=CONTACT,
        ),
        sv.ServiceAppointmentCancelled(
            **_COMMON,
            occurred_at=_t(26),
            service_appointment_id="sa-209",
            vin=VIN,
            cancelled_by=en.CancelledBy.CUSTOMER,
            cancelled_at=_t(26),
        ),
        sv.RepairOrderOpened(
            **_COMMON,
            occurred_at=_t(28, 1, 5),
            repair_order_id=_RO,
            service_appointment_id="sa-210",
            vin=VIN,
            model="Seal",
            advisor_id=ADVISOR,
            work_type=en.ServiceWorkType.MAINTENANCE,
            mileage_km=5120,
            concerns=["Squeak from front brakes"],
            concern_codes=["BRAKE-NOISE"],
            walk_around_findings=["Scratch on rear bumper (pre-existing)"],
            opened_at=_t(28, 1, 5),
            contact=CONTACT,
        ),
        sv.DiagnosisCompleted(
            **_COMMON,
            occurred_at=_t(28, 1, 40),
            repair_order_id=_RO,
            technician_id="t-zhao",
            findings=["Front pads at 3 mm"],
            completed_at=_t(28, 1, 40),
        ),
        sv.RepairQuoted(
            **_COMMON,
            occurred_at=_t(28, 1, 50),
            repair_order_id=_RO,
            quote_id="rq-881",
            items=[_LABOUR, _BRAKES],
            total=_cny("950.00"),
            quoted_at=_t(28, 1, 50),
        ),
        sv.RepairApproved(
            **_COMMON,
            occurred_at=_t(28, 2),
            repair_order_id=_RO,
            quote_id="rq-881",
            approved_item_ids=["ro-881-1"],
            approved_total=_cny("270.00"),
            method=en.ApprovalMethod.WECHAT,
            approved_at=_t(28, 2),
        ),
        sv.RepairItemDeclined(
            **_COMMON,
            occurred_at=_t(28, 2),
            repair_order_id=_RO,
            quote_id="rq-881",
            item=_BRAKES,
            vin=VIN,
            advisor_id=ADVISOR,
            follow_up_on=date(2026, 4, 27),
            declined_at=_t(28, 2),
        ),
        sv.PartsReserved(
            **_COMMON,
            occurred_at=_t(28, 2, 5),
            repair_order_id=_RO,
            parts=[
                sv.PartLine(
                    part_number="BYD-OF-01",
                    description="Cabin air filter",
                    quantity=1,
                    category=en.PartCategory.COMMON,
                )
            ],
            reserved_at=_t(28, 2, 5),
        ),
        sv.PartStockLow(
            **_COMMON,
            occurred_at=_t(28, 2, 5),
            part_number="BYD-OF-01",
            description="Cabin air filter",
            category=en.PartCategory.COMMON,
            on_hand=2,
            reorder_point=5,
            repair_order_id=_RO,
            detected_at=_t(28, 2, 5),
        ),
        sv.RepairCompleted(
            **_COMMON,
            occurred_at=_t(28, 3, 30),
            repair_order_id=_RO,
            technician_ids=["t-zhao"],
            work_summary="5,000 km maintenance; cabin filter replaced",
            labour_hours=Decimal("1.5"),
            completed_at=_t(28, 3, 30),
        ),
        sv.QualityCheckPassed(
            **_COMMON,
            occurred_at=_t(28, 3, 45),
            repair_order_id=_RO,
            inspector_id="qc-sun",
            attempt=1,
            checked_at=_t(28, 3, 45),
        ),
        sv.QualityCheckFailed(
            **_COMMON,
            occurred_at=_t(28, 3, 40),
            repair_order_id="ro-880",
            inspector_id="qc-sun",
            attempt=1,
            reasons=["Tyre pressure warning still on"],
            repeat_failure=False,
            checked_at=_t(28, 3, 40),
        ),
        sv.VehicleHandedOver(
            **_COMMON,
            occurred_at=_t(28, 6),
            repair_order_id=_RO,
            vin=VIN,
            model="Seal",
            advisor_id=ADVISOR,
            handed_over_at=_t(28, 6),
            mileage_km=5120,
            work_type=en.ServiceWorkType.MAINTENANCE,
            work_summary="5,000 km maintenance",
            amount_paid=_cny("270.00"),
            next_maintenance_due_on=date(2027, 3, 28),
            next_maintenance_due_km=15120,
            contact=CONTACT,
        ),
        sv.MaintenanceDue(
            **_COMMON,
            occurred_at=_t(8),
            vin=VIN,
            model="Seal",
            reason=en.MaintenanceReason.FIRST_MAINTENANCE,
            due_on=date(2026, 3, 22),
            due_km=5000,
            contact=CONTACT,
        ),
        sv.CustomerAtRisk(
            **_COMMON,
            occurred_at=_t(30),
            level=en.RetentionLevel.AT_RISK,
            vin=VIN,
            last_visit_at=datetime(2025, 3, 1, 2, tzinfo=UTC),
            months_since_last_visit=12,
            tier=en.ServiceTier.C,
            advisor_id=ADVISOR,
            detected_at=_t(30),
            contact=CONTACT,
        ),
    ]


def _complaints() -> list[DomainEvent]:
    complaint = "cmp-2026-031"
    return [
        cp.ComplaintOpened(
            **_COMMON,
            occurred_at=_t(29, 3),
            complaint_id=complaint,
            channel=ce.ComplaintChannel.CALLBACK_SURVEY,
            category=ce.ComplaintCategory.AFTER_SALES_SERVICE,
            severity=ce.ComplaintSeverity.HIGH,
            summary="Brake squeak persists after maintenance",
            handler_id="h-chen",
            department=ce.Department.AFTER_SALES,
            vin=VIN,
            origin=cp.ComplaintOrigin(
                kind=ce.ComplaintOriginKind.DISSATISFIED_CALLBACK,
                task_id="task-9001",
                repair_order_id=_RO,
            ),
            acknowledge_due_at=_t(29, 5),
            resolve_due_at=_t(31, 10),
            opened_at=_t(29, 3),
            contact=CONTACT,
        ),
        cp.ComplaintAcknowledged(
            **_COMMON,
            occurred_at=_t(29, 3, 20),
            complaint_id=complaint,
            handler_id="h-chen",
            channel=en.ContactChannel.PHONE,
            acknowledged_at=_t(29, 3, 20),
        ),
        cp.ComplaintAssigned(
            **_COMMON,
            occurred_at=_t(29, 4),
            complaint_id=complaint,
            handler_id="h-liu",
            previous_handler_id="h-chen",
            department=ce.Department.AFTER_SALES,
            reason=en.AssignmentReason.MANUAL,
            assigned_at=_t(29, 4),
        ),
        cp.ComplaintEscalated(
            **_COMMON,
            occurred_at=_t(31, 10),
            complaint_id=complaint,
            level=1,
            to_role=ce.EscalationRole.DEPARTMENT_MANAGER,
            to_staff_id="m-after-sales",
            clock=ce.SlaClock.RESOLVE,
            due_at=_t(31, 10),
            severity=ce.ComplaintSeverity.HIGH,
            escalated_at=_t(31, 10),
        ),
        cp.ComplaintSlaBreached(
            **_COMMON,
            occurred_at=_t(31, 10),
            complaint_id=complaint,
            clock=ce.SlaClock.RESOLVE,
            severity=ce.ComplaintSeverity.HIGH,
            handler_id="h-liu",
            due_at=_t(31, 10),
            breached_at=_t(31, 10),
        ),
        cp.ComplaintResolved(
            **_COMMON,
            occurred_at=_t(31, 12),
            complaint_id=complaint,
            handler_id="h-liu",
            responsibility=ce.Responsibility.DEALER,
            responsible_department=ce.Department.AFTER_SALES,
            cause="Pads not chamfered at maintenance",
            measures=["Apology", "Free re-repair at the customer's convenience"],
            resolution="Pads replaced free of charge on 31 March",
            resolved_at=_t(31, 12),
        ),
        cp.ComplaintReopened(
            **_COMMON,
            occurred_at=_t(31, 14),
            complaint_id=complaint,
            handler_id="h-liu",
            reason="Squeak came back after two days",
            reopen_count=1,
            reopened_at=_t(31, 14),
        ),
        cp.ComplaintClosed(
            **_COMMON,
            occurred_at=_t(31, 16),
            complaint_id=complaint,
            customer_confirmed=True,
            closed_by="h-liu",
            closed_at=_t(31, 16),
        ),
    ]


def _notifier() -> list[DomainEvent]:
    delivery = RelatedRecord(kind=ce.RecordKind.DELIVERY, id="dlv-601")
    return [
        nt.TaskScheduled(
            **_COMMON,
            occurred_at=_t(22, 7),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            due_at=_t(23, 7),
            title="24 h delivery callback: 张伟 (Seal)",
            script="Thank the customer; ask about the car and the app pairing.",
            related=delivery,
        ),
        nt.TaskDue(
            **_COMMON,
            occurred_at=_t(23, 7),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            due_at=_t(23, 7),
            related=delivery,
        ),
        nt.TaskCompleted(
            **_COMMON,
            occurred_at=_t(23, 6),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            outcome=ce.TaskOutcome.SATISFIED,
            note="Happy with the car",
            related=delivery,
            completed_at=_t(23, 6),
        ),
        nt.TaskCancelled(
            **_COMMON,
            occurred_at=_t(10, 8),
            task_id="task-8100",
            kind=ce.TaskKind.LEAD_FOLLOW_UP,
            reason=ce.TaskCancelReason.LEAD_CLOSED,
            cancelled_at=_t(10, 8),
        ),
        nt.ReminderScheduled(
            **_COMMON,
            occurred_at=_t(22, 7),
            reminder_id="rem-4000",
            kind=ce.ReminderKind.MAINTENANCE_DUE,
            purpose=en.ConsentPurpose.SERVICE,
            channel=en.MessageChannel.WECHAT,
            template="maintenance_due",
            send_at=datetime(2026, 9, 8, 2, tzinfo=UTC),
            related=delivery,
        ),
        nt.NotificationSent(
            **_COMMON,
            occurred_at=_t(27, 2),
            notification_id="ntf-5000",
            reminder_id="rem-3999",
            kind=ce.ReminderKind.SERVICE_APPOINTMENT,
            purpose=en.ConsentPurpose.SERVICE,
            channel=en.MessageChannel.SMS,
            template="service_appointment_24h",
            locale=en.Locale.ZH_CN,
            provider_message_id="sms-aliyun-8f2c",
            sent_at=_t(27, 2),
        ),
        nt.NotificationFailed(
            **_COMMON,
            occurred_at=_t(27, 2),
            notification_id="ntf-5001",
            reminder_id="rem-3998",
            channel=en.MessageChannel.EMAIL,
            error="SMTP 450 mailbox unavailable",
            retryable=True,
            attempts=1,
            failed_at=_t(27, 2),
        ),
        nt.NotificationSuppressed(
            **_COMMON,
            occurred_at=_t(27, 14),
            notification_id="ntf-5002",
            reminder_id="rem-3997",
            kind=ce.ReminderKind.HOLIDAY_GREETING,
            channel=en.MessageChannel.WECHAT,
            policy=ce.SuppressionPolicy.NO_CONSENT,
            detail="No marketing consent",
            suppressed_at=_t(27, 14),
        ),
        nt.SurveyResponded(
            **_COMMON,
            occurred_at=_t(29, 2),
            survey_id="srv-700",
            kind=ce.SurveyKind.DELIVERY_SATISFACTION,
            score=9,
            comment="Smooth delivery",
            related=delivery,
            responded_at=_t(29, 2),
        ),
        nt.ConsentChanged(
            **_COMMON,
            occurred_at=_t(30, 12),
            consent_id="cons-12",
            purpose=en.ConsentPurpose.MARKETING,
            channel=en.MessageChannel.SMS,
            granted=False,
            source=ce.ConsentSource.REPLY_KEYWORD,
            changed_at=_t(30, 12),
        ),
    ]


def _build() -> Mapping[type[DomainEvent], DomainEvent]:
    examples = {type(e): e for e in [*_leads(), *_sales(), *_service(), *_complaints()]}
    examples.update({type(e): e for e in _notifier()})
    missing = [cls.__name__ for cls in ALL_EVENTS if cls not in examples]
    if missing:
        raise RuntimeError(f"events without an example: {missing}")
    return MappingProxyType({cls: examples[cls] for cls in ALL_EVENTS})


EXAMPLES: Mapping[type[DomainEvent], DomainEvent] = _build()
"""One valid example per event class, in catalogue order."""


def example_for(cls: type[E]) -> E:
    """The example instance of an event class (KeyError if the class has none)."""
    example = EXAMPLES[cls]
    assert isinstance(example, cls)
    return example
