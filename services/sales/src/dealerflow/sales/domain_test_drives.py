"""Test drives on the day: the fleet vehicle may be booked, the drive may start (licence
valid on the day, consent signed), complete (ratings 1-5) or be cancelled. Pure functions;
each returns the problems (empty: allowed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Consent:
    """The customer's signed test-drive consent: who signed, when, which text version."""

    signed_by: str
    signed_at: datetime
    text_version: str


@dataclass(frozen=True)
class Ratings:
    overall: int
    vehicle: int | None = None
    consultant: int | None = None


def fleet_problems(
    vehicle_in_service: bool | None, *, dealer_has_fleet: bool, vehicle_id: str
) -> tuple[str, ...]:
    """A vehicle of the dealer's fleet must be in service; once a dealer keeps a fleet,
    only its vehicles are booked (``vehicle_in_service`` None: not in the fleet)."""
    if vehicle_in_service is None:
        if dealer_has_fleet:
            return (f"vehicle {vehicle_id} is not in the dealer's test-drive fleet",)
        return ()
    if not vehicle_in_service:
        return (f"vehicle {vehicle_id} is out of service",)
    return ()


def start_problems(
    *,
    licence_number: str | None,
    licence_expires: date | None,
    drive_date: date,
    consent: Consent | None,
) -> tuple[str, ...]:
    """Checked on the day of the drive: a licence number and an expiry that holds that day
    (valid up to and including the date it states), and the signed consent."""
    problems = []
    if not (licence_number or "").strip():
        problems.append("licence.number: the driver's licence number is missing")
    if licence_expires is None:
        problems.append("licence.expires_on: the licence expiry is missing")
    elif licence_expires < drive_date:
        problems.append(f"licence.expires_on: the licence expired on {licence_expires}")
    if consent is None:
        problems.append("consent: the customer's signed consent is missing")
    return tuple(problems)


def state_problem(status: str, step: str) -> str | None:
    """Why ``step`` (start, complete, cancel) cannot happen in ``status``; None if it can.
    Doing a step again is not a problem (the caller answers with the drive as it is)."""
    allowed = {
        "start": {"booked"},
        "complete": {"started"},
        "cancel": {"booked"},
    }[step]
    if status in allowed:
        return None
    return f"the test drive is {status}: it cannot {step}"


def step_done(status: str, step: str) -> bool:
    """The step was already done (a repeat changes nothing)."""
    return {"start": "started", "complete": "completed", "cancel": "cancelled"}[step] == status
