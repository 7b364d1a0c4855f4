from datetime import date
from decimal import Decimal

import pytest

from dealerflow.contracts.money import to_money
from dealerflow.policy import (
    DealerPeople,
    SalesPolicy,
    StaffMember,
    StaffRole,
    policy_with_overrides,
)
from dealerflow.sales.domain_quote import (
    AccessoryLine,
    LoanRequest,
    PurchaseTaxPolicy,
    QuoteError,
    QuoteRequest,
    compute_quote,
    discount_approver,
    discount_needs_approval,
    monthly_instalment,
    purchase_tax,
)

D = Decimal
#: A dealer that set nothing (DOMAIN.md defaults).
DEFAULTS = SalesPolicy()
TAX = PurchaseTaxPolicy.from_sales_policy(DEFAULTS)
THRESHOLD = DEFAULTS.discount_approval_threshold_rate


def tax_policy(**sales: object) -> PurchaseTaxPolicy:
    return PurchaseTaxPolicy.from_sales_policy(SalesPolicy.model_validate(sales))


def test_purchase_tax_is_ten_percent_of_price_excluding_vat() -> None:
    # 200000 / 1.13 = 176991.1504...; x 10% = 17699.115... -> 17699.12
    assert purchase_tax(D("200000"), False, TAX) == D("17699.12")
    # 113000 / 1.13 = 100000 exactly
    assert purchase_tax(D("113000"), False, TAX) == D("10000.00")
    assert purchase_tax(D("0"), False, TAX) == D("0.00")


def test_purchase_tax_rounds_half_up_not_half_even() -> None:
    # 99999.99 / 1.13 x 0.1 = 8849.5566... -> 8849.56
    assert purchase_tax(D("99999.99"), False, TAX) == D("8849.56")
    # With 13% VAT a cent price never gives an exact half cent; without VAT it does:
    # 0.25 x 0.1 = 0.025 -> 0.03 half up (half even would say 0.02).
    no_vat = tax_policy(vat_rate=D("0"))
    assert purchase_tax(D("0.25"), False, no_vat) == D("0.03")
    assert purchase_tax(D("0.05"), False, no_vat) == D("0.01")


def test_nev_relief_full_halved_and_capped() -> None:
    assert purchase_tax(D("200000"), True, TAX) == D("0.00")
    halved = tax_policy(nev_relief_ratio=D("0.5"))
    assert purchase_tax(D("200000"), True, halved) == D("8849.56")
    # full tax 0.05 (0.56 / 1.13 x 0.1 = 0.0496): relief 0.025 -> 0.03 half up, pays 0.02
    assert purchase_tax(D("0.56"), False, halved) == D("0.05")
    assert purchase_tax(D("0.56"), True, halved) == D("0.02")
    capped = tax_policy(nev_relief_ratio=D("0.5"), nev_exemption_cap=D("15000"))
    # 500000 car: tax 44247.79, half = 22123.90 -> capped at 15000
    assert purchase_tax(D("500000"), True, capped) == D("29247.79")
    no_relief = tax_policy(nev_purchase_tax_exempt=False)
    assert purchase_tax(D("200000"), True, no_relief) == D("17699.12")


def test_capped_exemption_from_policy() -> None:
    sales = policy_with_overrides({"sales": {"nev_exemption_cap": "30000"}}).sales
    tax_policy = PurchaseTaxPolicy.from_sales_policy(sales)
    # 500000 car: 44247.79 tax, 30000 waived
    assert purchase_tax(D("500000"), True, tax_policy) == D("14247.79")


def test_discount_approval_strictly_beyond_threshold() -> None:
    assert not discount_needs_approval(D("200000"), D("10000"), THRESHOLD)  # exactly 5%
    assert discount_needs_approval(D("200000"), D("10000.01"), THRESHOLD)
    assert not discount_needs_approval(D("200000"), D("0"), THRESHOLD)
    assert discount_needs_approval(D("200000"), D("6001"), threshold_rate=D("0.03"))


def test_annuity_matches_the_textbook_value() -> None:
    assert monthly_instalment(D("100000"), D("0.06"), 12) == D("8606.64")
    assert monthly_instalment(D("100000"), D("0"), 36) == D("2777.78")
    assert monthly_instalment(D("0"), D("0.05"), 12) == D("0.00")


@pytest.mark.parametrize(("rate", "months"), [(D("0.06"), 0), (D("-0.01"), 12), (D("4.99"), 12)])
def test_annuity_rejects_bad_terms(rate: Decimal, months: int) -> None:
    with pytest.raises(QuoteError):
        monthly_instalment(D("1000"), rate, months)


def test_full_quote_adds_every_line() -> None:
    quote = compute_quote(
        QuoteRequest(
            vehicle_price=D("200000"),
            discount=D("10000"),
            insurance=D("5000"),
            registration_fee=D("500"),
            accessories=(
                AccessoryLine("floor mats", D("300"), 2),
                AccessoryLine("dashcam", D("899")),
            ),
            extended_warranty=D("2999"),
        ),
        DEFAULTS,
    )
    assert quote.transaction_price == D("190000.00")
    assert quote.purchase_tax == D("16814.16")  # 190000 / 1.13 x 10% = 16814.159...
    assert quote.accessories_total == D("1499.00")
    assert quote.total == D("190000") + D("16814.16") + D("5000") + D("500") + D("1499") + D("2999")
    assert quote.due_upfront == quote.total
    assert quote.loan is None
    assert not quote.discount_approval_required


def test_quote_flags_discount_beyond_dealer_threshold() -> None:
    request = QuoteRequest(vehicle_price=D("100000"), discount=D("4000"))
    assert not compute_quote(request, DEFAULTS).discount_approval_required
    assert compute_quote(
        request, SalesPolicy(discount_approval_threshold_rate=D("0.03"))
    ).discount_approval_required


def test_loan_finances_the_vehicle_and_the_last_instalment_absorbs_rounding() -> None:
    quote = compute_quote(
        QuoteRequest(
            vehicle_price=D("130000"),
            insurance=D("4000"),
            loan=LoanRequest(down_payment=D("30000"), term_months=12, annual_rate=D("0.06")),
        ),
        DEFAULTS,
    )
    loan = quote.loan
    assert loan is not None
    assert loan.principal == D("100000.00")
    assert loan.monthly_instalment == D("8606.64")
    assert abs(loan.final_instalment - loan.monthly_instalment) < D("0.10")
    assert loan.total_repayment == loan.monthly_instalment * 11 + loan.final_instalment
    assert loan.total_interest == loan.total_repayment - D("100000")
    assert abs(loan.total_interest - D("3279.68")) < D("0.10")
    assert quote.due_upfront == quote.total - D("100000")


def test_interest_free_loan_repays_exactly_the_principal() -> None:
    quote = compute_quote(
        QuoteRequest(
            vehicle_price=D("100000"),
            loan=LoanRequest(down_payment=D("0"), term_months=7, annual_rate=D("0")),
        ),
        DEFAULTS,
    )
    assert quote.loan is not None
    assert quote.loan.monthly_instalment == D("14285.71")
    assert quote.loan.final_instalment == D("14285.74")
    assert quote.loan.total_repayment == D("100000.00")
    assert quote.loan.total_interest == D("0.00")


@pytest.mark.parametrize(
    "request_",
    [
        QuoteRequest(vehicle_price=D("0")),
        QuoteRequest(vehicle_price=D("1000"), discount=D("1000.01")),
        QuoteRequest(vehicle_price=D("1000"), insurance=D("-1")),
        QuoteRequest(vehicle_price=D("1000.001")),
        QuoteRequest(vehicle_price=D("1000"), accessories=(AccessoryLine("x", D("1"), 0),)),
        QuoteRequest(
            vehicle_price=D("1000"),
            loan=LoanRequest(down_payment=D("1000"), term_months=12, annual_rate=D("0.05")),
        ),
    ],
)
def test_inconsistent_requests_are_refused(request_: QuoteRequest) -> None:
    with pytest.raises(QuoteError):
        compute_quote(request_, DEFAULTS)


def test_money_refuses_floats_and_sub_cent_amounts() -> None:
    with pytest.raises(TypeError):
        to_money(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="two decimals"):
        to_money("1.005")
    with pytest.raises(ValueError, match="not a number"):
        to_money("abc")
    assert to_money(5) == D("5.00")


def test_the_dealers_purchase_tax_setting_exempts_halves_or_caps_nev_relief() -> None:
    def tax(overrides: dict[str, object], price: str, *, is_nev: bool) -> D:
        sales = policy_with_overrides({"sales": overrides}).sales
        return purchase_tax(D(price), is_nev, PurchaseTaxPolicy.from_sales_policy(sales))

    assert tax({}, "113000", is_nev=True) == D("0.00")  # DOMAIN.md default: NEV exempt
    assert tax({"nev_exemption_cap": "3000"}, "113000", is_nev=True) == D("7000.00")
    assert tax({"nev_relief_ratio": "0.5"}, "113000", is_nev=True) == D("5000.00")
    halved_capped: dict[str, object] = {"nev_relief_ratio": "0.5", "nev_exemption_cap": "1500"}
    assert tax(halved_capped, "113000", is_nev=True) == D("8500.00")
    assert tax({"nev_purchase_tax_exempt": False}, "113000", is_nev=True) == D("10000.00")
    assert tax({}, "200000", is_nev=False) == D("17699.12")


def test_the_discount_approver_is_the_dealers_manager_that_day_or_the_placeholder() -> None:
    people = DealerPeople(
        staff=[
            StaffMember(staff_id="m-zhou", roles={StaffRole.SALES_MANAGER}, replaced_by="gm-wu"),
            StaffMember(staff_id="gm-wu", roles={StaffRole.GM}),
        ]
    )
    monday, holiday = date(2025, 3, 3), date(2025, 3, 10)
    away = people.model_copy(
        update={
            "staff": [people.staff[0].model_copy(update={"away_from": holiday}), people.staff[1]]
        }
    )
    gm_approves = SalesPolicy(discount_approver_role="gm")
    assert discount_approver(people, DEFAULTS, "D001", monday) == "m-zhou"
    assert discount_approver(away, DEFAULTS, "D001", monday) == "m-zhou"
    assert discount_approver(away, DEFAULTS, "D001", holiday) == "gm-wu"  # the replacement
    assert discount_approver(people, gm_approves, "D001", monday) == "gm-wu"
    # nobody configured: the documented placeholder of the role
    assert discount_approver(DealerPeople(), DEFAULTS, "D001", monday) == "sales-manager:D001"
    assert discount_approver(DealerPeople(), gm_approves, "D002", monday) == "gm:D002"
