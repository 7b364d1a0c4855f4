"""Shaping the complaint analysis: the period in the dealer's days, counts per dimension
(causes merged, no value counted as not recorded, every month listed), SLA compliance and
improvement actions per cause. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dealerflow.complaints.domain_analysis import (
    CSV_COLUMNS,
    NOT_RECORDED,
    ActionProgress,
    ActionTally,
    AnalysisFacts,
    ClockCompliance,
    ClockTally,
    DimensionCount,
    ExportRow,
    PeriodInverted,
    Quantiles,
    RepeatCount,
    Repeats,
    action_progress,
    analysis_of,
    cause_key,
    compliance_of,
    csv_cell,
    csv_fields,
    csv_text,
    months_of,
    period_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NONE = Repeats(0, [])


def facts(*counts: DimensionCount, **overrides: object) -> AnalysisFacts:
    base: dict[str, object] = {
        "total": 3,
        "counts": list(counts),
        "repeat_customers": NONE,
        "repeat_vehicles": NONE,
        "time_to_acknowledge": Quantiles(0, None, None),
        "time_to_resolve": Quantiles(0, None, None),
        "clocks": [],
    }
    base.update(overrides)
    return AnalysisFacts(**base)  # type: ignore[arg-type]


def test_the_period_is_whole_days_of_the_dealer_both_ends_included() -> None:
    period = period_of(date(2025, 3, 1), date(2025, 3, 31), SHANGHAI)
    assert period.starts_at == datetime(2025, 2, 28, 16, 0, tzinfo=UTC)
    assert period.ends_before == datetime(2025, 3, 31, 16, 0, tzinfo=UTC)
    open_ended = period_of(None, None, SHANGHAI)
    assert open_ended.starts_at is None
    assert open_ended.ends_before is None
    one_day = period_of(date(2025, 3, 5), date(2025, 3, 5), SHANGHAI)
    assert one_day.ends_before is not None
    assert one_day.starts_at is not None
    assert (one_day.ends_before - one_day.starts_at).days == 1


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(PeriodInverted, match="after its end"):
        period_of(date(2025, 4, 1), date(2025, 3, 1), SHANGHAI)


def test_months_span_years() -> None:
    assert months_of(date(2024, 11, 30), date(2025, 2, 1)) == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]


@pytest.mark.parametrize(
    ("cause", "key"),
    [
        ("Brake pads  worn", "brake pads worn"),
        ("  BRAKE pads worn\n", "brake pads worn"),
        ("刹车片磨损", "刹车片磨损"),
        ("   ", None),
        (None, None),
    ],
)
def test_causes_differing_in_case_or_spacing_are_one(cause: str | None, key: str | None) -> None:
    assert cause_key(cause) == key


def test_counts_are_biggest_first_with_causes_merged_and_missing_values_not_recorded() -> None:
    shaped = analysis_of(
        facts(
            DimensionCount("category", "product_quality", 1),
            DimensionCount("category", "after_sales_service", 2),
            DimensionCount("cause", "Brake pads worn", 1),
            DimensionCount("cause", "brake pads  WORN", 1),
            DimensionCount("cause", None, 1),
            DimensionCount("department", None, 3),
        ),
        period_of(None, None, SHANGHAI),
    )
    assert list(shaped.by["category"].items()) == [
        ("after_sales_service", 2),
        ("product_quality", 1),
    ]
    assert shaped.by["cause"] == {"brake pads worn": 2, NOT_RECORDED: 1}
    assert shaped.by["department"] == {NOT_RECORDED: 3}
    assert shaped.by["channel"] == {}  # every dimension is there, even without complaints


def test_every_month_of_a_bounded_period_is_listed_in_order() -> None:
    counts = [DimensionCount("month", "2025-03", 2), DimensionCount("month", "2025-01", 1)]
    bounded = analysis_of(facts(*counts), period_of(date(2025, 1, 1), date(2025, 4, 30), SHANGHAI))
    assert list(bounded.by["month"].items()) == [
        ("2025-01", 1),
        ("2025-02", 0),
        ("2025-03", 2),
        ("2025-04", 0),
    ]
    unbounded = analysis_of(facts(*counts), period_of(None, None, SHANGHAI))
    assert list(unbounded.by["month"]) == ["2025-01", "2025-03"]


def test_compliance_is_met_over_decided_clocks() -> None:
    assert compliance_of(ClockTally("acknowledge", met=3, breached=1, pending=2)) == (
        ClockCompliance(met=3, breached=1, pending=2, rate=0.75)
    )
    assert compliance_of(ClockTally("resolve", 0, 0, 4)).rate is None
    shaped = analysis_of(
        facts(clocks=[ClockTally("resolve", 1, 2, 0), ClockTally("acknowledge", 2, 0, 0)]),
        period_of(None, None, SHANGHAI),
    )
    assert list(shaped.sla_compliance) == ["acknowledge", "resolve"]
    assert shaped.sla_compliance["resolve"].rate == pytest.approx(0.3333)


def test_times_are_rounded_and_repeats_passed_on() -> None:
    repeats = Repeats(1, [RepeatCount("LSVAA4182E2184847", 2)])
    shaped = analysis_of(
        facts(
            time_to_acknowledge=Quantiles(2, 1800.04, 2399.96),
            repeat_vehicles=repeats,
        ),
        period_of(None, None, SHANGHAI),
    )
    assert shaped.time_to_acknowledge == Quantiles(2, 1800.0, 2400.0)
    assert shaped.repeat_vehicles == repeats


def test_improvement_actions_are_open_and_done_per_cause() -> None:
    progress = action_progress(
        [
            ActionTally("Brake pads worn", "open", 1),
            ActionTally("brake pads worn", "done", 2),
            ActionTally("Late callback", "open", 1),
        ]
    )
    assert progress == {
        "brake pads worn": ActionProgress(open=1, done=2),
        "late callback": ActionProgress(open=1, done=0),
    }


ROW = ExportRow(
    complaint_id="0b0e6e1c-0000-4000-8000-000000000001",
    opened_at=datetime(2025, 3, 31, 17, 0, tzinfo=UTC),
    status="resolved",
    channel="hotline",
    category="after_sales_service",
    severity="normal",
    origin="manual",
    department="after_sales",
    handler_id="cr-li",
    responsibility="dealer",
    responsible_department="after_sales",
    responsible_staff_id=None,
    cause='=HYPERLINK("http://x"), "pads"',
    customer_id="5f0c0c1e-0000-4000-8000-000000000002",
    vin="LSVAA4182E2184847",
    escalation_level=1,
    reopen_count=0,
    acknowledged_at=datetime(2025, 3, 31, 17, 40, tzinfo=UTC),
    first_resolved_at=datetime(2025, 4, 1, 17, 0, tzinfo=UTC),
    closed_at=None,
    breached_clocks=("resolve", "acknowledge"),
)


def test_an_export_row_has_every_column_in_order_month_in_the_dealer_s_zone() -> None:
    cells = dict(zip(CSV_COLUMNS, csv_fields(ROW, SHANGHAI), strict=True))
    assert cells["month"] == "2025-04"  # 01:00 on 1 April in Shanghai
    assert cells["opened_at"] == "2025-03-31T17:00:00+00:00"
    assert cells["time_to_acknowledge_s"] == "2400.0"
    assert cells["time_to_resolve_s"] == "86400.0"
    assert cells["closed_at"] == ""
    assert cells["responsible_staff_id"] == ""
    assert cells["breached_clocks"] == "acknowledge resolve"
    assert cells["escalation_level"] == "1"
    assert cells["cause"].startswith("'=HYPERLINK")  # never run as a formula


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("brake pads", "brake pads"),
        (-3, "-3"),
        (True, "true"),
        (None, ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_defused(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_csv_text_quotes_where_needed_with_crlf() -> None:
    assert csv_text([["a", "b, c"], ['say "hi"', ""]]) == 'a,"b, c"\r\n"say ""hi""",\r\n'
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS))
    assert not {"phone", "email", "name", "contact", "summary", "details"} & set(CSV_COLUMNS)
