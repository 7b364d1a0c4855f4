"""Repair order use cases: check-in, reading repair orders, and what every workflow step
shares (diagnosis, quote and the customer's decision are in usecases_repair; work,
quality check and handover in usecases_workshop).

Each takes the use-case context (one transaction) and a command, applies the domain
rules, writes through the repository and publishes its events in the same transaction.
An illegal step raises :class:`~dealerflow.service_center.domain.IllegalStep` with the
reason, a broken rule a :class:`~dealerflow.service_center.domain.BrokenRule`, before
anything is written. A request carrying an idempotency key is done once: a retry gets
the repair order as it is now (runtime.idempotency).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, Locale, ServiceWorkType
from dealerflow.contracts.events.service import RepairOrderOpened
from dealerflow.contracts.identity import InvalidPhoneNumber, customer_identity
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.service_center import domain, domain_appointments
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_appointments as appointments_repo
from dealerflow.service_center import repository_detailing as detailing_repo
from dealerflow.service_center import repository_parts as parts_repo
from dealerflow.service_center import usecases_maintenance as maintenance
from dealerflow.service_center.domain_appointments import AppointmentRecord, AppointmentStatus
from dealerflow.service_center.records import RepairOrderDetails, RepairOrderRecord
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases_vehicles import declined_to_offer


class RepairOrderNotFound(Exception):
    """No repair order with this id at this dealer."""

    def __init__(self, repair_order_id: uuid.UUID) -> None:
        super().__init__(f"No repair order with id {repair_order_id}")


class RepairOrderIdTaken(Exception):
    """The client-chosen repair order id exists already (not as this request's retry)."""


class InvalidPhone(domain.BrokenRule):
    """The customer's phone number cannot be read."""


# -- reading ---------------------------------------------------------------------------------


async def get_repair_order(
    uc: UseCaseContext[ServiceCenterSettings], dealer_id: str, repair_order_id: uuid.UUID
) -> RepairOrderDetails:
    """The RO with its quality checks, declined items and back-ordered parts
    (RepairOrderNotFound if it is not this dealer's)."""
    ro = await repo.get_repair_order(uc.conn, dealer_id, repair_order_id)
    if ro is None:
        raise RepairOrderNotFound(repair_order_id)
    return RepairOrderDetails(
        order=ro,
        quality_checks=tuple(await repo.list_quality_checks(uc.conn, dealer_id, ro.id)),
        declined_items=tuple(await repo.list_declined_items(uc.conn, dealer_id, ro.id)),
        detailing=await detailing_repo.detailing_of(uc.conn, dealer_id, ro.id),
        offered_again=await declined_to_offer(uc, dealer_id, ro.vin, except_order=ro),
        back_ordered=tuple(
            r
            for r in await parts_repo.reservations_of(uc.conn, dealer_id, ro.id)
            if r.status == "back_ordered"
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ListRepairOrders:
    """Which of a dealer's repair orders, and which page (newest first)."""

    dealer_id: str
    status: domain.RepairOrderStatus | None = None
    vin: str | None = None
    advisor_id: str | None = None
    customer_id: uuid.UUID | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    #: (opened_at, id) of the previous page's last repair order
    after: tuple[datetime, uuid.UUID] | None = None
    limit: int = 50


async def list_repair_orders(
    uc: UseCaseContext[ServiceCenterSettings], query: ListRepairOrders
) -> list[RepairOrderRecord]:
    """Up to ``query.limit + 1`` repair orders (the extra one says a next page exists)."""
    return await repo.list_repair_orders(
        uc.conn,
        query.dealer_id,
        status=query.status,
        vin=query.vin.upper() if query.vin else None,
        advisor_id=query.advisor_id,
        customer_id=query.customer_id,
        opened_from=query.opened_from,
        opened_to=query.opened_to,
        after=query.after,
        limit=query.limit + 1,
    )


# -- idempotency and steps -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RepairOrderCommand:
    """What every workflow step names: the dealer, the repair order, the request key."""

    dealer_id: str
    repair_order_id: uuid.UUID
    request: RequestKey | None = None


async def begin_step(
    uc: UseCaseContext[ServiceCenterSettings], cmd: RepairOrderCommand, step: domain.RepairOrderStep
) -> RepairOrderRecord | None:
    """The RO, locked for the rest of the transaction, if ``step`` may happen to it now
    (RepairOrderNotFound, IllegalStep otherwise); None when this request is the retry
    of one that did the step already (nothing to do)."""
    scope = f"repair-orders:{cmd.repair_order_id}:{step.value}"
    if await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope=scope, resource_id=cmd.repair_order_id
    ):
        return None
    ro = await repo.get_repair_order(uc.conn, cmd.dealer_id, cmd.repair_order_id, for_update=True)
    if ro is None:
        raise RepairOrderNotFound(cmd.repair_order_id)
    domain.require_step(ro.status, step)
    return ro


async def local_date(
    uc: UseCaseContext[ServiceCenterSettings], dealer_id: str, at: datetime
) -> date:
    """The dealer's calendar date at ``at`` (its time zone from the dealer policy)."""
    return at.astimezone((await uc.policy(dealer_id)).calendar.tz).date()


# -- check-in --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Customer:
    """How to reach the customer, as the advisor took it down (phone in any format)."""

    name: str
    phone: str | None
    email: str | None
    wechat_openid: str | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    consent: ConsentSnapshot
    locale: Locale = Locale.ZH_CN


@dataclass(frozen=True, kw_only=True)
class OpenRepairOrder:
    """Check-in: the vehicle, its mileage, the customer and their concerns."""

    dealer_id: str
    repair_order_id: uuid.UUID | None = None  # client-chosen: a retry opens nothing
    customer_id: uuid.UUID | None = None  # default: the contracts' identity rule
    dealer_group: str | None = None
    customer: Customer | None = None  # default: the booking's (service_appointment_id)
    service_appointment_id: str | None = None
    vin: str | None = None  # default: the booking's
    model: str | None = None
    advisor_id: str
    mileage_km: int
    concerns: tuple[str, ...] = ()
    concern_codes: tuple[str, ...] | None = None  # default: from the concerns
    walk_around_findings: tuple[str, ...] = ()
    work_type: ServiceWorkType | None = None  # default: classified from the concerns
    warranty_start_on: date | None = None
    request: RequestKey | None = None


@dataclass(frozen=True)
class OpenedRepairOrder:
    details: RepairOrderDetails
    created: bool  # False: a retry, answered with the repair order it opened


def contact_of(
    uc: UseCaseContext[ServiceCenterSettings],
    c: Customer,
    *,
    dealer_group: str | None,
    customer_id: uuid.UUID | None,
) -> tuple[uuid.UUID, ContactSnapshot]:
    """The customer's id (the given one, or the contracts' identity rule) and contact
    snapshot (InvalidPhone when the phone cannot be read); check-in and booking."""
    try:
        customer_id, phone = customer_identity(
            dealer_group or uc.settings.default_dealer_group,
            phone=c.phone,
            email=c.email,
            default_region=uc.settings.default_phone_region,
            customer_id=customer_id,
        )
    except InvalidPhoneNumber as exc:
        raise InvalidPhone(str(exc)) from exc
    contact = ContactSnapshot(
        name=c.name,
        phone=phone,
        email=c.email,
        wechat_openid=c.wechat_openid,
        preferred_channel=c.preferred_channel,
        consent=c.consent,
        locale=c.locale,
    )
    return customer_id, contact


async def _booking_of(
    uc: UseCaseContext[ServiceCenterSettings], cmd: OpenRepairOrder
) -> AppointmentRecord | None:
    """The dealer's own appointment the check-in names, locked (None: no appointment, or
    the reference of another system's booking)."""
    if cmd.service_appointment_id is None:
        return None
    try:
        appointment_id = uuid.UUID(cmd.service_appointment_id)
    except ValueError:
        return None
    return await appointments_repo.get_appointment(
        uc.conn, cmd.dealer_id, appointment_id, for_update=True
    )


async def open_repair_order(
    uc: UseCaseContext[ServiceCenterSettings], cmd: OpenRepairOrder
) -> OpenedRepairOrder:
    """Check-in (what it decides: domain.plan_intake): RepairOrderOpened. A booked
    customer's check-in takes the VIN, concerns, work type and contact from the booking
    (``domain_appointments.visit_from_booking``) and marks the appointment checked in."""
    ro_id = cmd.repair_order_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="repair-orders", resource_id=ro_id
    )
    if earlier is not None:
        return OpenedRepairOrder(await get_repair_order(uc, cmd.dealer_id, earlier), False)
    booking = await _booking_of(uc, cmd)
    if booking is not None:
        visit = domain_appointments.visit_from_booking(
            booking, vin=cmd.vin, concerns=cmd.concerns, work_type=cmd.work_type
        )
        cmd = replace(cmd, vin=visit.vin, concerns=visit.concerns, work_type=visit.work_type)
    if cmd.vin is None:
        raise domain.BrokenRule("name the vehicle (vin) or a booked service_appointment_id")
    if cmd.customer is not None:
        customer_id, contact = contact_of(
            uc, cmd.customer, dealer_group=cmd.dealer_group, customer_id=cmd.customer_id
        )
    elif booking is not None:
        customer_id, contact = booking.customer_id, booking.contact
    else:
        raise domain.BrokenRule("name the customer or a booked service_appointment_id")
    service = (await uc.policy(cmd.dealer_id)).service
    intake = domain.plan_intake(
        cmd.concerns,
        today=await local_date(uc, cmd.dealer_id, uc.now),
        mileage_km=cmd.mileage_km,
        warranty_start_on=cmd.warranty_start_on,
        warranty_months=service.warranty_months,
        warranty_km=service.warranty_km,
        work_type=cmd.work_type,
        concern_codes=cmd.concern_codes,
    )
    ro = RepairOrderRecord(
        dealer_id=cmd.dealer_id,
        id=ro_id,
        customer_id=customer_id,
        service_appointment_id=cmd.service_appointment_id,
        vin=cmd.vin,
        model=cmd.model,
        advisor_id=cmd.advisor_id,
        work_type=intake.work_type,
        under_warranty=intake.under_warranty,
        mileage_km=cmd.mileage_km,
        concerns=cmd.concerns,
        concern_codes=intake.concern_codes,
        walk_around_findings=cmd.walk_around_findings,
        contact=contact,
        status=domain.RepairOrderStatus.OPEN,
        opened_at=uc.now,
        updated_at=uc.now,
    )
    if not await repo.insert_repair_order(uc.conn, ro):
        raise RepairOrderIdTaken(
            f"repair order {ro_id} already exists (sent with another Idempotency-Key)"
        )
    if booking is not None:
        await appointments_repo.save_appointment(
            uc.conn,
            replace(
                booking,
                status=AppointmentStatus.CHECKED_IN,
                repair_order_id=ro_id,
                updated_at=uc.now,
            ),
        )
    await maintenance.vehicle_checked_in(uc, ro.dealer_id, ro.vin)
    await uc.publish(
        RepairOrderOpened(
            dealer_id=ro.dealer_id,
            customer_id=customer_id,
            occurred_at=uc.now,
            repair_order_id=str(ro_id),
            service_appointment_id=ro.service_appointment_id,
            vin=ro.vin,
            model=ro.model,
            advisor_id=ro.advisor_id,
            work_type=ro.work_type,
            mileage_km=ro.mileage_km,
            concerns=list(ro.concerns),
            concern_codes=list(ro.concern_codes),
            walk_around_findings=list(ro.walk_around_findings),
            opened_at=uc.now,
            contact=contact,
        )
    )
    return OpenedRepairOrder(await get_repair_order(uc, cmd.dealer_id, ro_id), True)
