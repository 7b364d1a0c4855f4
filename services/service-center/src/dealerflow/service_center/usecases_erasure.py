"""A customer's erasure at one store (PIPL Art. 47, GDPR Art. 17): the eraser the runtime
runs on CustomerErasureRequested (:mod:`dealerflow.runtime.erasure`)."""

from __future__ import annotations

from dataclasses import replace

from dealerflow.contracts.contact import erased_contact
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.erasure import Erasure
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_appointments as appointments_repo
from dealerflow.service_center import repository_erasure as erasure_repo
from dealerflow.service_center import repository_maintenance as maintenance_repo
from dealerflow.service_center.domain_appointments import AppointmentRecord
from dealerflow.service_center.records import RepairOrderRecord
from dealerflow.service_center.settings import ServiceCenterSettings


def plan_erased_order(ro: RepairOrderRecord) -> RepairOrderRecord:
    """``ro`` without the customer's personal data: the contact erased (its locale kept),
    every line of the concerns, walk-around findings and diagnosis findings erased, the
    concern codes derived from the concerns erased, the work summary erased. The same
    RO back when it was erased already."""
    diagnosis = ro.diagnosis
    return replace(
        ro,
        contact=erased_contact(ro.contact.locale),
        concerns=domain.erased_lines(ro.concerns),
        concern_codes=domain.erased_concern_codes(ro.concerns, ro.concern_codes),
        walk_around_findings=domain.erased_lines(ro.walk_around_findings),
        diagnosis=None
        if diagnosis is None
        else replace(diagnosis, findings=domain.erased_lines(diagnosis.findings)),
        work_summary=None if ro.work_summary is None else domain.ERASED_TEXT,
    )


def plan_erased_appointment(a: AppointmentRecord) -> AppointmentRecord:
    """What an erasure leaves of a service appointment: the contact erased and every
    concern line erased (ids, VIN, slots, flags and times kept)."""
    return replace(
        a, contact=erased_contact(a.contact.locale), concerns=domain.erased_lines(a.concerns)
    )


async def erase_customer(
    uc: UseCaseContext[ServiceCenterSettings], erasure: Erasure
) -> dict[str, int]:
    """Anonymise the customer's repair orders at the store (:func:`plan_erased_order`)
    and the reasons of their quality checks; rows changed per table.

    Service appointments: the contact and the concerns erased (plan_erased_appointment).
    Kept: ids (the customer id too), the VIN and model, statuses, work type, mileages,
    the quote (its lines describe the work priced, not the person), approved, completed
    and declined items, technicians, labour hours, amounts, invoice numbers, dates and
    the next maintenance due, the after-sales tier per customer id (``customer_tiers``:
    ids and counts) and the retention level per VIN. The contact of the vehicles
    registered at delivery is erased too (its locale kept). Service-center sends no
    messages; its one timer, the vehicle's maintenance reminder day, reads the repair
    order when it fires, so its MaintenanceDue carries the erased contact. What others
    (notifier) schedule from its events finds no way to reach the customer in an erased
    RO.
    """
    conn, dealer_id = uc.conn, erasure.dealer_id
    changed = {"repair_orders": 0, "quality_checks": 0, "service_appointments": 0}
    for appointment in await appointments_repo.customer_appointments(
        conn, dealer_id, erasure.customer_id
    ):
        erased_appointment = plan_erased_appointment(appointment)
        if erased_appointment != appointment:
            await appointments_repo.save_appointment(conn, erased_appointment)
            changed["service_appointments"] += 1
    changed["owned_vehicles"] = await maintenance_repo.erase_owned_vehicle_contacts(
        conn, dealer_id, erasure.customer_id, erased_contact()
    )
    for ro in await repo.customer_repair_orders(conn, dealer_id, erasure.customer_id):
        erased = plan_erased_order(ro)
        if erased != ro:
            await erasure_repo.save_erased_order(conn, erased)
            changed["repair_orders"] += 1
        for recorded in await repo.list_quality_checks(conn, dealer_id, ro.id):
            reasons = domain.erased_lines(recorded.check.reasons)
            if reasons != recorded.check.reasons:
                await erasure_repo.save_quality_check_reasons(
                    conn, ro, recorded.check.attempt, reasons
                )
                changed["quality_checks"] += 1
    return changed
