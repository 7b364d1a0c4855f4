"""Test-drive bookings (no double booking, licence checked) and delivery readiness."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from dealerflow.contracts.enums import DeliveryDocument
from dealerflow.sales.domain import ContractStatus, is_valid_vin


@dataclass(frozen=True)
class TestDriveBooking:
    __test__ = False  # not a pytest test class, despite the name

    booking_id: str
    vehicle_id: str  # the test-drive vehicle
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class DriverLicence:
    number: str
    expires_on: date


def intervals_overlap(
    a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime
) -> bool:
    """Half-open intervals [start, end): a drive ending at 10:00 and one starting at
    10:00 do not overlap."""
    return a_start < b_end and b_start < a_end


def booking_conflicts(
    new: TestDriveBooking,
    existing: Iterable[TestDriveBooking],
    turnaround: timedelta = timedelta(0),
) -> tuple[TestDriveBooking, ...]:
    """Bookings of the same vehicle that `new` would overlap.

    `turnaround` (a per-dealer setting, default none) is kept free after every drive for
    cleaning or charging. Cancelled bookings and `new` itself do not count.
    """
    return tuple(
        other
        for other in existing
        if other.vehicle_id == new.vehicle_id
        and not other.cancelled
        and other.booking_id != new.booking_id
        and intervals_overlap(
            new.starts_at, new.ends_at + turnaround, other.starts_at, other.ends_at + turnaround
        )
    )


def licence_valid_on(licence: DriverLicence, drive_date: date) -> bool:
    """A Chinese licence is valid up to and including the date it states (有效期至)."""
    return bool(licence.number.strip()) and drive_date <= licence.expires_on


def mask_licence_number(number: str) -> str:
    """Only the last four characters: a licence number is an ID number in China."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def validate_drive_booking(
    new: TestDriveBooking,
    existing: Iterable[TestDriveBooking],
    licence: DriverLicence,
    drive_date: date,
    now: datetime,
    turnaround: timedelta = timedelta(0),
) -> tuple[str, ...]:
    """Problems with booking `new` (empty = bookable).

    `drive_date` is the drive's date in the dealer's time zone (the licence states a
    local date); the caller converts, since the rules know no time zones.
    """
    problems: list[str] = []
    if new.ends_at <= new.starts_at:
        problems.append("the drive must end after it starts")
    if new.starts_at < now:
        problems.append("the drive cannot start in the past")
    if not licence.number.strip():
        problems.append("driver's licence number is required")
    elif not licence_valid_on(licence, drive_date):
        problems.append("driver's licence has expired by the drive date")
    conflicts = booking_conflicts(new, existing, turnaround)
    if conflicts:
        ids = ", ".join(c.booking_id for c in conflicts)
        problems.append(f"vehicle {new.vehicle_id} is already booked ({ids})")
    return tuple(problems)


REQUIRED_DELIVERY_DOCUMENTS: frozenset[DeliveryDocument] = frozenset(DeliveryDocument)


class DeliveryBlocker(StrEnum):
    """Why a car cannot be delivered yet; item blockers reuse the item's name."""

    PDI_MISSING = "pdi_missing"  # no PDI recorded
    PDI_NOT_PASSED = "pdi_not_passed"  # the recorded PDI has failed items
    CERTIFICATE_OF_CONFORMITY = "certificate_of_conformity"
    INVOICE = "invoice"
    MAINTENANCE_MANUAL = "maintenance_manual"
    WARRANTY_CARD = "warranty_card"
    KEYS = "keys"
    BALANCE_OUTSTANDING = "balance_outstanding"
    CONTRACT_NOT_ACTIVE = "contract_not_active"
    VIN_NOT_ASSIGNED = "vin_not_assigned"


@dataclass(frozen=True)
class DeliveryChecklist:
    pdi_passed: bool = False
    documents_ready: frozenset[DeliveryDocument] = frozenset()
    pdi_recorded: bool = True


@dataclass(frozen=True)
class DeliveryReadiness:
    ready: bool
    missing: tuple[DeliveryBlocker, ...]  # in checklist order


def can_deliver(
    checklist: DeliveryChecklist,
    *,
    balance_due: Decimal,
    contract_status: ContractStatus,
    vin: str | None,
    required_documents: frozenset[DeliveryDocument] = REQUIRED_DELIVERY_DOCUMENTS,
) -> DeliveryReadiness:
    """Is the car ready to hand over? If not, everything still missing, in order.

    Ready means: an active contract with a VIN, a PDI recorded and passed, every required
    document and the keys prepared, and no balance due (finance-confirmed, see
    PaymentLedger).
    """
    missing: list[DeliveryBlocker] = []
    if contract_status is not ContractStatus.ACTIVE:
        missing.append(DeliveryBlocker.CONTRACT_NOT_ACTIVE)
    if vin is None or not is_valid_vin(vin):
        missing.append(DeliveryBlocker.VIN_NOT_ASSIGNED)
    if not checklist.pdi_recorded:
        missing.append(DeliveryBlocker.PDI_MISSING)
    elif not checklist.pdi_passed:
        missing.append(DeliveryBlocker.PDI_NOT_PASSED)
    for item in DeliveryDocument:  # enum order = the handover order on the checklist
        if item in required_documents and item not in checklist.documents_ready:
            missing.append(DeliveryBlocker(item.value))
    if balance_due > 0:
        missing.append(DeliveryBlocker.BALANCE_OUTSTANDING)
    return DeliveryReadiness(ready=not missing, missing=tuple(missing))
