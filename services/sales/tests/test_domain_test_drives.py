"""The test-drive rules of the day (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dealerflow.sales.domain_test_drives import (
    Consent,
    fleet_problems,
    start_problems,
    state_problem,
    step_done,
)

SIGNED = Consent("王芳", datetime(2025, 3, 3, 2, 0, tzinfo=UTC), "TD-2025-01")
DAY = date(2025, 3, 3)


def test_a_licence_valid_through_the_day_and_a_signed_consent_start_the_drive() -> None:
    assert (
        start_problems(licence_number="3101", licence_expires=DAY, drive_date=DAY, consent=SIGNED)
        == ()
    )


def test_a_missing_or_expired_licence_or_no_consent_stop_the_drive() -> None:
    expired = start_problems(
        licence_number="3101", licence_expires=date(2025, 3, 2), drive_date=DAY, consent=SIGNED
    )
    assert expired == ("licence.expires_on: the licence expired on 2025-03-02",)
    missing = start_problems(licence_number=" ", licence_expires=None, drive_date=DAY, consent=None)
    assert len(missing) == 3


def test_only_fleet_vehicles_in_service_are_booked_once_the_dealer_keeps_a_fleet() -> None:
    assert fleet_problems(None, dealer_has_fleet=False, vehicle_id="TD-1") == ()
    assert fleet_problems(True, dealer_has_fleet=True, vehicle_id="TD-1") == ()
    assert fleet_problems(None, dealer_has_fleet=True, vehicle_id="TD-1")
    assert "out of service" in fleet_problems(False, dealer_has_fleet=True, vehicle_id="TD-1")[0]


def test_steps_follow_booked_started_completed_and_cancel_only_before_the_start() -> None:
    assert state_problem("booked", "start") is None
    assert state_problem("started", "complete") is None
    assert state_problem("booked", "cancel") is None
    assert state_problem("booked", "complete") == "the test drive is booked: it cannot complete"
    assert state_problem("started", "cancel") is not None
    assert state_problem("cancelled", "start") is not None
    assert step_done("completed", "complete")
    assert not step_done("started", "complete")
