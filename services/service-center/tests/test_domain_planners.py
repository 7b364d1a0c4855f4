"""What the workflow steps decide, without a database: which step is legal, what a
completion marks done, whether the vehicle may leave, when maintenance is next due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.types import Money
from dealerflow.service_center.domain import (
    WHOLE_JOB,
    HandoverNotReady,
    IllegalStep,
    Intake,
    NoQuotedLines,
    OdometerWentBack,
    QualityCheckRecord,
    RepairOrderStatus,
    RepairOrderStep,
    ServiceWorkType,
    UnapprovedWork,
    VehicleReturn,
    VehicleVisit,
    WorkDone,
    WrongCurrency,
    concern_codes_of,
    next_maintenance_after_visit,
    plan_handover,
    plan_intake,
    plan_work_completion,
    require_step,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_an_illegal_step_says_why_and_names_status_and_step() -> None:
    require_step(RepairOrderStatus.OPEN, RepairOrderStep.COMPLETE)  # a quick job: allowed
    with pytest.raises(IllegalStep, match="approves the quote") as refused:
        require_step(RepairOrderStatus.QUOTED, RepairOrderStep.COMPLETE)
    assert refused.value.problem_extensions == {"repair_order_status": "quoted", "step": "complete"}


def test_concern_codes_default_to_the_concerns_normalised() -> None:
    assert concern_codes_of(["保养", "Brake noise!", "brake  noise", " "]) == ["保养", "brakenoise"]
    assert concern_codes_of(["Brake noise!"], ["BRK-01", "brk01"]) == ["brk01"]
    assert concern_codes_of(["x"], []) == []


def test_a_job_agreed_at_check_in_is_one_whole_job() -> None:
    done = plan_work_completion(
        quoted=False, approved_item_ids=(), completed_before=(), completed_now=None
    )
    assert done == WorkDone((WHOLE_JOB,), (WHOLE_JOB,))
    with pytest.raises(NoQuotedLines, match="no quoted lines") as refused:
        plan_work_completion(
            quoted=False, approved_item_ids=(), completed_before=(), completed_now=["L1"]
        )
    assert refused.value.problem_extensions == {
        "errors": ["this repair order has no quoted lines to complete"]
    }


def test_quoted_work_defaults_to_every_approved_line_and_accumulates() -> None:
    approved = ("L1", "P1")
    first = plan_work_completion(
        quoted=True, approved_item_ids=approved, completed_before=(), completed_now=["P1"]
    )
    assert first == WorkDone(approved, ("P1",))
    rest = plan_work_completion(
        quoted=True, approved_item_ids=approved, completed_before=("P1",), completed_now=None
    )
    assert rest.completed_item_ids == ("L1", "P1")
    with pytest.raises(UnapprovedWork, match="not approved: P2") as refused:
        plan_work_completion(
            quoted=True, approved_item_ids=approved, completed_before=(), completed_now=["P2"]
        )
    assert refused.value.problem_extensions == {"unapproved_item_ids": ["P2"]}


PASSED = (QualityCheckRecord(1, True, T0),)
READY = VehicleReturn(
    work_type=ServiceWorkType.REPAIR,
    currency="CNY",
    check_in_mileage_km=20_000,
    approved_total=Decimal("850.00"),
    approved_item_ids=frozenset({"L1"}),
    completed_item_ids=frozenset({"L1"}),
    quality_checks=PASSED,
    mileage_km=20_003,
    amount_paid=Money(amount=Decimal("850.00"), currency="CNY"),
    invoice_issued=True,
)


def test_a_settled_checked_vehicle_leaves_at_the_handover_mileage() -> None:
    assert plan_handover(READY) == 20_003
    assert plan_handover(replace(READY, mileage_km=None)) == 20_000


def test_handover_blockers_and_what_is_owed() -> None:
    unpaid = replace(READY, amount_paid=Money(amount=Decimal("800.00"), currency="CNY"))
    with pytest.raises(HandoverNotReady, match="missing: not_settled") as refused:
        plan_handover(replace(unpaid, quality_checks=PASSED))
    assert refused.value.problem_extensions == {
        "missing": ["not_settled"],
        "incomplete_item_ids": [],
        "unapproved_item_ids": [],
        "amount_due": {"amount": "50.00", "currency": "CNY"},
    }
    with pytest.raises(HandoverNotReady) as unchecked:
        plan_handover(replace(READY, quality_checks=(), amount_paid=None, invoice_issued=False))
    assert unchecked.value.missing == [
        "quality_check_not_passed",
        "not_settled",
        "invoice_not_issued",
    ]


def test_warranty_work_is_not_charged_nor_invoiced() -> None:
    warranty = replace(
        READY, work_type=ServiceWorkType.WARRANTY, amount_paid=None, invoice_issued=False
    )
    assert plan_handover(warranty) == 20_003


def test_wrong_currency_and_odometer_going_back_are_refused() -> None:
    with pytest.raises(WrongCurrency, match="in CNY"):
        plan_handover(replace(READY, amount_paid=Money(amount=Decimal("1"), currency="USD")))
    with pytest.raises(OdometerWentBack, match="was 20000 km"):
        plan_handover(replace(READY, mileage_km=19_999))


def _due(
    work_type: ServiceWorkType, history: list[VehicleVisit], mileage_km: int = 23_000
) -> tuple[date, int] | None:
    due = next_maintenance_after_visit(
        work_type,
        today=date(2025, 5, 2),
        mileage_km=mileage_km,
        history=history,
        tz=SHANGHAI,
        interval_km=10_000,
        interval_months=12,
    )
    return (due.due_date, due.due_km) if due else None


MAINTENANCE = VehicleVisit(
    ServiceWorkType.MAINTENANCE,
    opened_at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC),
    mileage_km=20_000,
    handed_over_at=datetime(2025, 3, 3, 4, 0, tzinfo=UTC),
    handover_mileage_km=20_000,
)


def test_a_maintenance_visit_counts_from_today() -> None:
    # 3,000 km in 60 days: 50 km a day, so 10,000 km come after 200 days, before 12 months
    assert _due(ServiceWorkType.MAINTENANCE, [MAINTENANCE]) == (
        date(2025, 5, 2) + timedelta(days=200),
        33_000,
    )
    assert _due(ServiceWorkType.MAINTENANCE, []) == (date(2026, 5, 2), 33_000)


def test_a_repair_counts_from_the_last_maintenance_or_is_unknown() -> None:
    assert _due(ServiceWorkType.REPAIR, [MAINTENANCE]) == (
        date(2025, 3, 3) + timedelta(days=200),
        30_000,
    )
    assert _due(ServiceWorkType.REPAIR, []) is None
    still_here = replace(MAINTENANCE, handed_over_at=None, handover_mileage_km=None)
    assert _due(ServiceWorkType.REPAIR, [still_here]) is None


def test_check_in_decides_warranty_work_type_and_concern_codes() -> None:
    def intake(**kw: object) -> Intake:
        args: dict[str, object] = {
            "today": date(2025, 3, 3),
            "mileage_km": 20_000,
            "warranty_start_on": None,
            "warranty_months": 36,
            "warranty_km": 60_000,
        }
        return plan_intake(["engine stalls", "保养"], **{**args, **kw})  # type: ignore[arg-type]

    assert intake() == Intake(ServiceWorkType.REPAIR, False, ("enginestalls", "保养"))
    covered = intake(warranty_start_on=date(2024, 1, 10))
    assert (covered.work_type, covered.under_warranty) == (ServiceWorkType.WARRANTY, True)
    assert not intake(warranty_start_on=date(2024, 1, 10), mileage_km=60_000).under_warranty
    chosen = intake(work_type=ServiceWorkType.BODYWORK, concern_codes=["E-01"])
    assert (chosen.work_type, chosen.concern_codes) == (ServiceWorkType.BODYWORK, ("e01",))
