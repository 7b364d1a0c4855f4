"""Repair order use cases in the workshop and at the desk: work completed, quality check,
handover (with the next maintenance due). Same rules as :mod:`usecases`: one
transaction, the domain's exceptions for an illegal step or a broken rule, events
through the outbox, a retried request done once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from dealerflow.contracts.events.service import (
    QualityCheckFailed,
    QualityCheckPassed,
    RepairCompleted,
    VehicleHandedOver,
)
from dealerflow.contracts.types import Money
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center import usecases_maintenance as maintenance
from dealerflow.service_center import usecases_retention as retention
from dealerflow.service_center import usecases_tiers as tiers
from dealerflow.service_center.domain import RepairOrderStatus, RepairOrderStep
from dealerflow.service_center.records import (
    RecordedQualityCheck,
    RepairOrderDetails,
    RepairOrderRecord,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import (
    RepairOrderCommand,
    begin_step,
    get_repair_order,
    local_date,
)
from dealerflow.service_center.usecases_detailing import require_detailing_authorised


@dataclass(frozen=True, kw_only=True)
class CompleteWork(RepairOrderCommand):
    technician_ids: tuple[str, ...]
    work_summary: str
    labour_hours: Decimal
    completed_item_ids: tuple[str, ...] | None = None  # default: every approved line


async def complete_work(
    uc: UseCaseContext[ServiceCenterSettings], cmd: CompleteWork
) -> RepairOrderDetails:
    """The approved work is done (or the rework after a failed check): RepairCompleted
    (what counts as done: domain.plan_work_completion)."""
    ro = await begin_step(uc, cmd, RepairOrderStep.COMPLETE)
    if ro is not None:
        await require_detailing_authorised(uc, ro)
        work = domain.plan_work_completion(
            quoted=ro.quote is not None,
            approved_item_ids=ro.approved_item_ids,
            completed_before=ro.completed_item_ids,
            completed_now=cmd.completed_item_ids,
        )
        await repo.save_repair_order(
            uc.conn,
            replace(
                ro,
                status=RepairOrderStatus.COMPLETED,
                approved_item_ids=work.approved_item_ids,
                completed_item_ids=work.completed_item_ids,
                technician_ids=cmd.technician_ids,
                work_summary=cmd.work_summary,
                labour_hours=cmd.labour_hours,
                completed_at=uc.now,
                updated_at=uc.now,
            ),
        )
        await uc.publish(
            RepairCompleted(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                technician_ids=list(cmd.technician_ids),
                work_summary=cmd.work_summary,
                labour_hours=cmd.labour_hours,
                completed_at=uc.now,
            )
        )
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


@dataclass(frozen=True, kw_only=True)
class RecordQualityCheck(RepairOrderCommand):
    inspector_id: str
    passed: bool
    reasons: tuple[str, ...] = ()
    reached_customer: bool = False  # the customer found the defect after handover


async def record_quality_check(
    uc: UseCaseContext[ServiceCenterSettings], cmd: RecordQualityCheck
) -> RepairOrderDetails:
    """Pass (ready for handover) or fail (rework; a repeat failure of this RO's checks is
    recorded): QualityCheckPassed / QualityCheckFailed."""
    ro = await begin_step(uc, cmd, RepairOrderStep.QUALITY_CHECK)
    if ro is not None:
        await _check(uc, ro, cmd)
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


async def _check(
    uc: UseCaseContext[ServiceCenterSettings], ro: RepairOrderRecord, cmd: RecordQualityCheck
) -> None:
    earlier = await repo.list_quality_checks(uc.conn, ro.dealer_id, ro.id)
    check = domain.record_quality_check([e.check for e in earlier], cmd.passed, uc.now, cmd.reasons)
    await repo.insert_quality_check(
        uc.conn,
        ro.dealer_id,
        ro.id,
        RecordedQualityCheck(check, cmd.inspector_id, cmd.reached_customer),
    )
    await repo.save_repair_order(
        uc.conn,
        replace(ro, status=domain.status_after_quality_check(check.passed), updated_at=uc.now),
    )
    # what both outcomes say
    common: dict[str, Any] = {
        "dealer_id": ro.dealer_id,
        "customer_id": ro.customer_id,
        "occurred_at": uc.now,
        "repair_order_id": str(ro.id),
        "inspector_id": cmd.inspector_id,
        "attempt": check.attempt,
        "checked_at": uc.now,
    }
    if check.passed:
        await uc.publish(QualityCheckPassed(**common))
    else:
        await uc.publish(
            QualityCheckFailed(
                **common,
                reasons=list(check.reasons),
                repeat_failure=check.repeat_failure,
                reached_customer=cmd.reached_customer,
            )
        )


@dataclass(frozen=True, kw_only=True)
class HandOver(RepairOrderCommand):
    """The customer collects the vehicle: settled and invoiced as needed."""

    mileage_km: int | None = None  # default: the check-in mileage
    amount_paid: Money | None = None
    invoice_number: str | None = None


async def hand_over(uc: UseCaseContext[ServiceCenterSettings], cmd: HandOver) -> RepairOrderDetails:
    """Return the vehicle if domain.plan_handover lets it go (work done and approved,
    quality check passed, settled, invoiced when charged): VehicleHandedOver with the
    next maintenance due. Otherwise HandoverNotReady lists every blocker, nothing changes."""
    ro = await begin_step(uc, cmd, RepairOrderStep.HAND_OVER)
    if ro is not None:
        await _hand_over(uc, ro, cmd)
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


async def _hand_over(
    uc: UseCaseContext[ServiceCenterSettings], ro: RepairOrderRecord, cmd: HandOver
) -> None:
    currency = ro.currency or uc.settings.default_currency
    checks = await repo.list_quality_checks(uc.conn, ro.dealer_id, ro.id)
    mileage = domain.plan_handover(
        domain.VehicleReturn(
            work_type=ro.work_type,
            currency=currency,
            check_in_mileage_km=ro.mileage_km,
            approved_total=ro.approved_total,
            approved_item_ids=frozenset(ro.approved_item_ids),
            completed_item_ids=frozenset(ro.completed_item_ids),
            quality_checks=tuple(c.check for c in checks),
            mileage_km=cmd.mileage_km,
            amount_paid=cmd.amount_paid,
            invoice_issued=cmd.invoice_number is not None,
        )
    )
    history = await repo.vehicle_history(uc.conn, ro.dealer_id, ro.vin, exclude=ro.id)
    policy = await uc.policy(ro.dealer_id)
    due = domain.next_maintenance_after_visit(
        ro.work_type,
        today=await local_date(uc, ro.dealer_id, uc.now),
        mileage_km=mileage,
        history=history,
        tz=policy.calendar.tz,
        interval_km=policy.service.maintenance_interval_km,
        interval_months=policy.service.maintenance_interval_months,
    )
    await repo.save_repair_order(
        uc.conn,
        replace(
            ro,
            status=RepairOrderStatus.HANDED_OVER,
            handed_over_at=uc.now,
            handover_mileage_km=mileage,
            amount_paid=cmd.amount_paid.amount if cmd.amount_paid else None,
            currency=currency,
            invoice_number=cmd.invoice_number,
            next_maintenance_due_on=due.due_date if due else None,
            next_maintenance_due_km=due.due_km if due else None,
            updated_at=uc.now,
        ),
    )
    if due is not None:
        await maintenance.plan_maintenance_due(uc, ro, due)
    await retention.schedule_retention_scan(uc, ro.dealer_id)
    await uc.publish(
        VehicleHandedOver(
            dealer_id=ro.dealer_id,
            customer_id=ro.customer_id,
            occurred_at=uc.now,
            repair_order_id=str(ro.id),
            vin=ro.vin,
            model=ro.model,
            advisor_id=ro.advisor_id,
            handed_over_at=uc.now,
            mileage_km=mileage,
            work_type=ro.work_type,
            work_summary=ro.work_summary,
            amount_paid=cmd.amount_paid,
            next_maintenance_due_on=due.due_date if due else None,
            next_maintenance_due_km=due.due_km if due else None,
            contact=ro.contact,
        )
    )
    await tiers.refresh_customer_tier(uc, ro.dealer_id, ro.customer_id)
