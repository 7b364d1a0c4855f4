from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dealerflow.policy import ServicePolicy
from dealerflow.service_center.domain import (
    CustomerDecision,
    DetailingJob,
    DetailingKind,
    QuoteLine,
    RepairItemKind,
    RepairQuoteError,
    VehicleSystem,
    apply_customer_decision,
    declined_items_due,
    declined_items_to_offer,
    detailing_work_problems,
    follow_up_date,
    price_repair_quote,
    unapproved_work,
)

D = Decimal
T0 = datetime(2026, 6, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 June in Shanghai
VIN = "LSVAU2180N2183294"
PART, LABOUR = RepairItemKind.PART, RepairItemKind.LABOUR

LINES = [
    QuoteLine(
        "pads", PART, "Front brake pads", part_number="BP-1", quantity=2, unit_price=D("180.50")
    ),
    QuoteLine("pads-fit", LABOUR, "Fit front pads", labour_hours=D("1.3")),
    QuoteLine("wiper", PART, "Wiper blade", part_number="WB-9", unit_price=D("45")),
    QuoteLine("align", LABOUR, "Wheel alignment", labour_hours=D("0.75")),
]


def test_quote_is_parts_plus_hours_times_rate() -> None:
    quote = price_repair_quote(LINES, D("180"))
    assert [p.amount for p in quote.lines] == [D("361.00"), D("234.00"), D("45.00"), D("135.00")]
    assert quote.parts_total == D("406.00")
    assert quote.labour_total == D("369.00")
    assert quote.total == D("775.00")
    assert quote.amount_of({"pads", "pads-fit"}) == D("595.00")


def test_labour_rounds_half_up_to_cents() -> None:
    # 0.25 h x 0.10 = 0.025 -> 0.03 (half even would give 0.02)
    line = QuoteLine("x", LABOUR, "tiny", labour_hours=D("0.25"))
    assert price_repair_quote([line], D("0.10")).total == D("0.03")
    # 1.15 h x 133.33 = 153.3295 -> 153.33
    line = QuoteLine("y", LABOUR, "odd", labour_hours=D("1.15"))
    assert price_repair_quote([line], D("133.33")).total == D("153.33")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (QuoteLine("l", LABOUR, "no hours"), "standard hours"),
        (QuoteLine("l", LABOUR, "zero", labour_hours=D("0")), "standard hours"),
        (QuoteLine("l", LABOUR, "priced", labour_hours=D("1"), unit_price=D("5")), "hours x rate"),
        (QuoteLine("p", PART, "no number", unit_price=D("5")), "part number"),
        (QuoteLine("p", PART, "no price", part_number="X"), "unit price"),
        (QuoteLine("p", PART, "none", part_number="X", quantity=0, unit_price=D("5")), "quantity"),
        (QuoteLine("p", PART, "minus", part_number="X", unit_price=D("-5")), "negative"),
    ],
)
def test_inconsistent_lines_are_refused(line: QuoteLine, message: str) -> None:
    with pytest.raises(RepairQuoteError, match=message):
        price_repair_quote([line], D("180"))


def test_quote_needs_lines_with_unique_ids() -> None:
    with pytest.raises(RepairQuoteError, match="at least one"):
        price_repair_quote([], D("180"))
    with pytest.raises(RepairQuoteError, match="unique"):
        price_repair_quote([LINES[0], LINES[0]], D("180"))
    with pytest.raises(RepairQuoteError, match="labour_rate"):
        price_repair_quote(LINES, 180.0)  # type: ignore[arg-type]


def _decide(approved: set[str], declined: set[str]) -> CustomerDecision:
    quote = price_repair_quote(LINES, D("180"))
    return apply_customer_decision(
        quote,
        approved,
        declined,
        vin=VIN,
        repair_order_id="ro-1",
        decided_at=T0,
        follow_up_after=ServicePolicy().declined_item_followup_after,  # DOMAIN.md: 30 days
    )


def test_work_only_on_approved_lines() -> None:
    decision = _decide({"pads", "pads-fit"}, {"align"})
    assert decision.approved_item_ids == {"pads", "pads-fit"}
    assert decision.approved_total == D("595.00")
    assert [p.line.item_id for p in decision.undecided] == ["wiper"]
    assert decision.can_start_work
    assert unapproved_work(["pads", "wiper"], decision.approved_item_ids) == ("wiper",)
    assert unapproved_work(["pads-fit"], decision.approved_item_ids) == ()
    assert not _decide(set(), {"pads"}).can_start_work


def test_declined_items_followed_up_after_30_days() -> None:
    (declined,) = _decide(set(), {"align"}).declined
    assert (declined.item_id, declined.amount, declined.vin) == ("align", D("135.00"), VIN)
    assert declined.follow_up_due_at == T0 + timedelta(days=30)
    # dealer-local date: 17:00 UTC is already the next day in Shanghai
    assert follow_up_date(declined, ZoneInfo("Asia/Shanghai")) == date(2026, 7, 2)
    assert declined_items_due([declined], T0 + timedelta(days=30, seconds=-1)) == ()
    assert declined_items_due([declined], T0 + timedelta(days=30)) == (declined,)
    assert declined_items_due([replace(declined, resolved=True)], T0 + timedelta(days=60)) == ()


def test_dealer_follow_up_delay() -> None:
    quote = price_repair_quote(LINES, D("180"))
    decision = apply_customer_decision(
        quote,
        [],
        ["wiper"],
        vin=VIN,
        repair_order_id="ro-1",
        decided_at=T0,
        follow_up_after=timedelta(days=14),
    )
    assert decision.declined[0].follow_up_due_at == T0 + timedelta(days=14)


def test_open_declined_items_are_offered_at_the_next_booking() -> None:
    older = _decide(set(), {"align"}).declined[0]
    newer = replace(older, item_id="wiper", declined_at=T0 + timedelta(days=5))
    done = replace(older, item_id="pads", resolved=True)
    other_car = replace(older, vin="LFV2A21K6A3000001")
    offered = declined_items_to_offer([newer, done, other_car, older], " lsvau2180n2183294 ")
    assert [i.item_id for i in offered] == ["align", "wiper"]


def test_decision_must_match_the_quote() -> None:
    with pytest.raises(RepairQuoteError, match="not on the quote: nope"):
        _decide({"nope"}, set())
    with pytest.raises(RepairQuoteError, match="at once: pads"):
        _decide({"pads"}, {"pads"})


COATING = DetailingJob(
    kind=DetailingKind.COATING,
    standard_hours=D("6"),
    fee=D("2800"),
    affects=frozenset({VehicleSystem.BODY}),
    service_contract_signed=True,
    risks_explained=True,
    customer_authorised=True,
)


def test_authorised_detailing_under_contract_may_start() -> None:
    assert detailing_work_problems(COATING) == ()


def test_detailing_needs_contract_shown_price_explanation_and_authorisation() -> None:
    job = replace(
        COATING,
        fee=None,
        service_contract_signed=False,
        risks_explained=False,
        customer_authorised=False,
    )
    assert detailing_work_problems(job) == (
        "standard hours and fee must be shown to the customer",
        "coating work needs a signed service contract",
        "effects and risks must be explained before work",
        "the customer's authorisation must be recorded before work",
    )


def test_wash_and_simple_installs_need_no_contract() -> None:
    wash = replace(COATING, kind=DetailingKind.WASH, service_contract_signed=False)
    assert detailing_work_problems(wash) == ()


@pytest.mark.parametrize(
    "system", [VehicleSystem.SAFETY, VehicleSystem.POWER, VehicleSystem.BRAKING]
)
def test_modifications_of_safety_power_or_braking_are_refused(system: VehicleSystem) -> None:
    job = replace(COATING, kind=DetailingKind.ELECTRONICS, affects=frozenset({system}))
    assert detailing_work_problems(job) == (f"refused: the work would modify {system}",)
