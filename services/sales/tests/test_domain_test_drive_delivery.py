from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dealerflow.contracts.enums import DeliveryDocument
from dealerflow.sales.domain import ContractStatus
from dealerflow.sales.domain_delivery import (
    DeliveryBlocker,
    DeliveryChecklist,
    DriverLicence,
    TestDriveBooking,
    booking_conflicts,
    can_deliver,
    intervals_overlap,
    licence_valid_on,
    validate_drive_booking,
)

T10 = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
NOW = T10 - timedelta(days=1)
LICENCE = DriverLicence("310101199001011234", date(2030, 1, 1))
VIN = "LSVAU2180N2183294"


def _booking(
    booking_id: str, start: datetime, end: datetime, vehicle: str = "demo-1"
) -> TestDriveBooking:
    return TestDriveBooking(booking_id, vehicle, start, end)


def test_intervals_are_half_open() -> None:
    assert intervals_overlap(T10, T10 + H, T10 + H / 2, T10 + 2 * H)
    assert not intervals_overlap(T10, T10 + H, T10 + H, T10 + 2 * H)  # back to back
    assert intervals_overlap(T10, T10 + 3 * H, T10 + H, T10 + 2 * H)  # containment


def test_conflicts_only_with_live_bookings_of_the_same_vehicle() -> None:
    new = _booking("new", T10, T10 + H)
    existing = [
        _booking("a", T10 + H / 2, T10 + 2 * H),
        _booking("other-car", T10, T10 + H, vehicle="demo-2"),
        TestDriveBooking("cancelled", "demo-1", T10, T10 + H, cancelled=True),
        _booking("adjacent", T10 + H, T10 + 2 * H),
        _booking("new", T10, T10 + H),  # the booking itself, being rescheduled
    ]
    assert [b.booking_id for b in booking_conflicts(new, existing)] == ["a"]


def test_turnaround_keeps_a_gap_after_each_drive() -> None:
    new = _booking("new", T10 + H, T10 + 2 * H)
    before = [_booking("before", T10, T10 + H)]
    assert booking_conflicts(new, before) == ()
    assert booking_conflicts(new, before, turnaround=timedelta(minutes=15)) == tuple(before)
    ok = _booking("new", T10 + H + timedelta(minutes=15), T10 + 2 * H)
    assert booking_conflicts(ok, before, turnaround=timedelta(minutes=15)) == ()


def test_licence_valid_through_its_expiry_date() -> None:
    licence = DriverLicence("310101199001011234", date(2026, 4, 1))
    assert licence_valid_on(licence, date(2026, 3, 31))
    assert licence_valid_on(licence, date(2026, 4, 1))
    assert not licence_valid_on(licence, date(2026, 4, 2))
    assert not licence_valid_on(DriverLicence("  ", date(2030, 1, 1)), date(2026, 4, 1))


def test_valid_booking_has_no_problems() -> None:
    new = _booking("new", T10, T10 + H)
    assert validate_drive_booking(new, [], LICENCE, T10.date(), NOW) == ()


def test_booking_problems_are_all_reported() -> None:
    new = _booking("new", T10, T10 - H)
    expired = DriverLicence("310101199001011234", date(2026, 3, 31))
    problems = validate_drive_booking(
        new, [_booking("x", T10 - 2 * H, T10 + H)], expired, T10.date(), T10 + H
    )
    assert problems == (
        "the drive must end after it starts",
        "the drive cannot start in the past",
        "driver's licence has expired by the drive date",
        "vehicle demo-1 is already booked (x)",
    )
    no_number = validate_drive_booking(
        _booking("n", T10, T10 + H), [], DriverLicence("", date(2030, 1, 1)), T10.date(), NOW
    )
    assert no_number == ("driver's licence number is required",)


READY = DeliveryChecklist(pdi_passed=True, documents_ready=frozenset(DeliveryDocument))


def test_ready_car_can_be_delivered() -> None:
    readiness = can_deliver(
        READY, balance_due=Decimal("0"), contract_status=ContractStatus.ACTIVE, vin=VIN
    )
    assert readiness.ready
    assert readiness.missing == ()


def test_every_missing_item_is_a_reason() -> None:
    readiness = can_deliver(
        DeliveryChecklist(documents_ready=frozenset({DeliveryDocument.INVOICE})),
        balance_due=Decimal("0.01"),
        contract_status=ContractStatus.CANCELLED,
        vin=None,
    )
    assert not readiness.ready
    assert readiness.missing == (
        DeliveryBlocker.CONTRACT_NOT_ACTIVE,
        DeliveryBlocker.VIN_NOT_ASSIGNED,
        DeliveryBlocker.PDI_NOT_PASSED,
        DeliveryBlocker.CERTIFICATE_OF_CONFORMITY,
        DeliveryBlocker.MAINTENANCE_MANUAL,
        DeliveryBlocker.WARRANTY_CARD,
        DeliveryBlocker.KEYS,
        DeliveryBlocker.BALANCE_OUTSTANDING,
    )


@pytest.mark.parametrize("item", list(DeliveryDocument))
def test_each_document_alone_blocks_delivery(item: DeliveryDocument) -> None:
    checklist = DeliveryChecklist(
        pdi_passed=True, documents_ready=frozenset(DeliveryDocument) - {item}
    )
    readiness = can_deliver(
        checklist, balance_due=Decimal("0"), contract_status=ContractStatus.ACTIVE, vin=VIN
    )
    assert readiness.missing == (DeliveryBlocker(item.value),)


def test_dealer_may_require_fewer_items() -> None:
    checklist = DeliveryChecklist(
        pdi_passed=True,
        documents_ready=frozenset(DeliveryDocument) - {DeliveryDocument.MAINTENANCE_MANUAL},
    )
    readiness = can_deliver(
        checklist,
        balance_due=Decimal("0"),
        contract_status=ContractStatus.ACTIVE,
        vin=VIN,
        required_documents=frozenset(DeliveryDocument) - {DeliveryDocument.MAINTENANCE_MANUAL},
    )
    assert readiness.ready
