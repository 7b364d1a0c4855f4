"""Repair order use cases in the workshop and at the desk: work completed, quality check,
handover (with the next maintenance due). Same rules as :mod:`usecases`: one
transaction, 409 with the reason for an illegal step, events through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.contracts.events.service import (
    QualityCheckFailed,
    QualityCheckPassed,
    RepairCompleted,
    VehicleHandedOver,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.service import ServiceContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center.schemas import (
    CompleteIn,
    HandoverIn,
    QualityCheckIn,
    RepairOrderDetail,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.support import (
    center_settings,
    conflict,
    invalid,
    local_date,
    money,
    require_step,
)
from dealerflow.service_center.usecases import locked, refreshed
from dealerflow.service_center.views import quality_check_records

Row = dict[str, Any]
ZERO = Decimal("0.00")


async def complete_work(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: CompleteIn
) -> RepairOrderDetail:
    """The approved work is done (or the rework after a failed check): RepairCompleted.

    Without a quote the job agreed at check-in counts as one approved item
    (domain.WHOLE_JOB); with one, only approved lines may have been worked on.
    """
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.COMPLETE)
    if ro["quote"] is None:
        if cmd.completed_item_ids:
            raise invalid("No quote", ["this repair order has no quoted lines to complete"])
        approved = [domain.WHOLE_JOB]
        done = [domain.WHOLE_JOB]
    else:
        approved = ro["approved_item_ids"]
        done = cmd.completed_item_ids if cmd.completed_item_ids is not None else approved
        unapproved = domain.unapproved_work(done, approved)
        if unapproved:
            raise conflict(
                "Work without approval",
                "the customer has not approved: " + ", ".join(unapproved),
                slug="unapproved-work",
                unapproved_item_ids=list(unapproved),
            )
    now = ctx.clock.now()
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.RepairOrderStatus.COMPLETED.value,
        approved_item_ids=approved,
        completed_item_ids=sorted(set(ro["completed_item_ids"]) | set(done)),
        technician_ids=cmd.technician_ids,
        work_summary=cmd.work_summary,
        labour_hours=cmd.labour_hours,
        completed_at=now,
    )
    await ctx.publish(
        conn,
        RepairCompleted(
            dealer_id=cmd.dealer_id,
            customer_id=ro["customer_id"],
            occurred_at=now,
            repair_order_id=str(repair_order_id),
            technician_ids=cmd.technician_ids,
            work_summary=cmd.work_summary,
            labour_hours=cmd.labour_hours,
            completed_at=now,
        ),
    )
    return await refreshed(conn, ro)


async def record_quality_check(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: QualityCheckIn
) -> RepairOrderDetail:
    """Pass (ready for handover) or fail (rework; a repeat failure is recorded):
    QualityCheckPassed / QualityCheckFailed."""
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.QUALITY_CHECK)
    history = quality_check_records(
        await repo.list_quality_checks(conn, cmd.dealer_id, repair_order_id)
    )
    now = ctx.clock.now()
    try:
        record = domain.record_quality_check(history, cmd.passed, now, cmd.reasons)
    except domain.QualityCheckError as exc:
        raise invalid("Quality check refused", [str(exc)], slug="invalid-quality-check") from None
    await repo.insert_quality_check(
        conn,
        {
            "dealer_id": cmd.dealer_id,
            "repair_order_id": repair_order_id,
            "attempt": record.attempt,
            "passed": record.passed,
            "reasons": list(record.reasons),
            "repeat_failure": record.repeat_failure,
            "reached_customer": cmd.reached_customer,
            "inspector_id": cmd.inspector_id,
            "checked_at": now,
        },
    )
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.status_after_quality_check(record.passed).value,
    )
    common = {
        "dealer_id": cmd.dealer_id,
        "customer_id": ro["customer_id"],
        "occurred_at": now,
        "repair_order_id": str(repair_order_id),
        "inspector_id": cmd.inspector_id,
        "attempt": record.attempt,
        "checked_at": now,
    }
    if record.passed:
        await ctx.publish(conn, QualityCheckPassed(**common))
    else:
        await ctx.publish(
            conn,
            QualityCheckFailed(
                **common,
                reasons=list(record.reasons),
                repeat_failure=record.repeat_failure,
                reached_customer=cmd.reached_customer,
            ),
        )
    return await refreshed(conn, ro)


def next_maintenance_due(
    settings: ServiceCenterSettings,
    ro: Row,
    history: Sequence[Row],
    *,
    today: date,
    mileage_km: int,
) -> domain.NextMaintenance | None:
    """When the vehicle is next due, by date or mileage whichever first (domain rule).

    Counted from this visit if it was maintenance, else from the vehicle's last
    maintenance here; unknown (None) if it never had one here. The date by mileage is
    projected from the odometer readings of its visits.
    """
    dealer_id = ro["dealer_id"]
    readings: list[tuple[date, int]] = [(today, mileage_km)]
    for past in history:
        readings.append((local_date(settings, dealer_id, past["opened_at"]), past["mileage_km"]))
        if past["handed_over_at"] is not None and past["handover_mileage_km"] is not None:
            readings.append(
                (
                    local_date(settings, dealer_id, past["handed_over_at"]),
                    past["handover_mileage_km"],
                )
            )
    if ro["work_type"] == ServiceWorkType.MAINTENANCE:
        base: tuple[date, int] = (today, mileage_km)
    else:
        maintained = [
            p
            for p in history
            if p["work_type"] == ServiceWorkType.MAINTENANCE and p["handed_over_at"] is not None
        ]
        if not maintained:
            return None
        last = maintained[-1]
        base = (
            local_date(settings, dealer_id, last["handed_over_at"]),
            last["handover_mileage_km"] or last["mileage_km"],
        )
    return domain.next_maintenance(
        base[0],
        base[1],
        settings.maintenance_interval_km,
        settings.maintenance_interval_months,
        domain.average_daily_km(readings),
    )


async def hand_over(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: HandoverIn
) -> RepairOrderDetail:
    """Return the vehicle if domain.can_hand_over passes (work done and approved, quality
    check passed, settled, invoiced when charged): VehicleHandedOver with the next
    maintenance due. Otherwise a 409 lists every blocker and nothing changes."""
    settings = center_settings(ctx)
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.HAND_OVER)
    currency = ro["currency"] or settings.default_currency
    if cmd.amount_paid is not None and cmd.amount_paid.currency != currency:
        raise invalid("Wrong currency", [f"the repair order is in {currency}"])
    mileage = cmd.mileage_km if cmd.mileage_km is not None else ro["mileage_km"]
    if mileage < ro["mileage_km"]:
        raise invalid("Odometer went back", [f"check-in mileage was {ro['mileage_km']} km"])
    # Warranty work is charged to the OEM, not the customer.
    charge = ZERO if ro["work_type"] == ServiceWorkType.WARRANTY else (ro["approved_total"] or ZERO)
    paid = cmd.amount_paid.amount if cmd.amount_paid is not None else ZERO
    checks = quality_check_records(
        await repo.list_quality_checks(conn, cmd.dealer_id, repair_order_id)
    )
    readiness = domain.can_hand_over(
        domain.HandoverState(
            approved_item_ids=frozenset(ro["approved_item_ids"]),
            completed_item_ids=frozenset(ro["completed_item_ids"]),
            quality_checks=checks,
            amount_due=max(charge - paid, ZERO),
            invoice_issued=cmd.invoice_number is not None,
        ),
        invoice_required=charge > 0,
    )
    if not readiness.ready:
        missing = [m.value for m in readiness.missing]
        raise conflict(
            "Vehicle not ready for handover",
            "missing: " + ", ".join(missing),
            slug="handover-not-ready",
            missing=missing,
            incomplete_item_ids=list(readiness.incomplete_item_ids),
            unapproved_item_ids=list(readiness.unapproved_item_ids),
            amount_due=money(max(charge - paid, ZERO), currency).model_dump(mode="json"),
        )
    now = ctx.clock.now()
    history = await repo.vehicle_history(conn, cmd.dealer_id, ro["vin"], exclude=repair_order_id)
    due = next_maintenance_due(
        settings, ro, history, today=local_date(settings, cmd.dealer_id, now), mileage_km=mileage
    )
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.RepairOrderStatus.HANDED_OVER.value,
        handed_over_at=now,
        handover_mileage_km=mileage,
        amount_paid=cmd.amount_paid.amount if cmd.amount_paid else None,
        currency=currency,
        invoice_number=cmd.invoice_number,
        next_maintenance_due_on=due.due_date if due else None,
        next_maintenance_due_km=due.due_km if due else None,
    )
    await ctx.publish(
        conn,
        VehicleHandedOver(
            dealer_id=cmd.dealer_id,
            customer_id=ro["customer_id"],
            occurred_at=now,
            repair_order_id=str(repair_order_id),
            vin=ro["vin"],
            model=ro["model"],
            advisor_id=ro["advisor_id"],
            handed_over_at=now,
            mileage_km=mileage,
            work_type=ro["work_type"],
            work_summary=ro["work_summary"],
            amount_paid=cmd.amount_paid,
            next_maintenance_due_on=due.due_date if due else None,
            next_maintenance_due_km=due.due_km if due else None,
            contact=ContactSnapshot.model_validate(ro["contact"]),
        ),
    )
    return await refreshed(conn, ro)
