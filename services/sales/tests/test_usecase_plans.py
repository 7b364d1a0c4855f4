"""The decisions of the sales use cases, without a database: the pure ``plan_*`` steps
each use case runs before it writes anything, and the problem every refusal becomes."""

from __future__ import annotations

import inspect
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dealerflow.contracts.contact import ConsentSnapshot
from dealerflow.contracts.enums import DeliveryDocument, PaymentKind, PaymentMethod
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.contracts.types import Money
from dealerflow.policy import SalesPolicy
from dealerflow.sales import usecases, usecases_contracts, usecases_delivery, usecases_showroom
from dealerflow.sales.domain import CancelledBy, ContractStatus
from dealerflow.sales.domain import PaymentKind as LedgerKind
from dealerflow.sales.domain_delivery import DriverLicence
from dealerflow.sales.domain_pdi import STANDARD_PDI_ITEMS, PdiItem, PdiRecord
from dealerflow.sales.problems import PROBLEMS
from dealerflow.sales.records import ContractRecord, InvoiceRecord, PaymentRecord, QuoteRecord
from dealerflow.sales.usecases import ContractNotActive, Customer, RequestRefused
from dealerflow.sales.usecases_contracts import (
    AmendContract,
    AmendmentRefused,
    CancelContract,
    CancellationRefused,
    ContractNotSignable,
    CurrencyCannotChange,
    SignContract,
    plan_amendment,
    plan_cancellation,
    plan_signing,
)
from dealerflow.sales.usecases_delivery import (
    AlreadyDelivered,
    AlreadyInvoiced,
    CancelledContractNotInvoiced,
    DeliverVehicle,
    DeliveryInThePast,
    DeliveryNotReady,
    InvoiceNumberTaken,
    IssueInvoice,
    PaymentRefused,
    RecordPayment,
    ScheduleDelivery,
    VinNotAssigned,
    WrongCurrency,
    check_appointment,
    plan_handover,
    plan_invoice,
    plan_payment,
)
from dealerflow.sales.usecases_showroom import (
    BookTestDrive,
    IssueQuote,
    LoanTerms,
    TestDriveRefused,
    plan_quote,
    plan_test_drive,
)

D = Decimal
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
TODAY = date(2025, 3, 3)
VIN = "LSVAU2180N2183294"
CNY = "CNY"
BUYER = Customer(
    name="王芳", phone="138 0013 8000", consent=ConsentSnapshot(service=True, marketing=False)
)
SIGN = SignContract(
    dealer_id="D001",
    customer=BUYER,
    address="上海市浦东新区世纪大道 100 号",
    id_document_verified=True,
    consultant_id="consultant-li",
    vehicle=ContractVehicle(model="Aurora X5", configuration="Luxury", colour="white", vin=VIN),
    price=Money(amount=D("200000.00"), currency=CNY),
    payment=PaymentPlan(method="full_payment"),
    planned_delivery_on=date(2025, 3, 20),
)
LOAN = PaymentPlan(
    method="loan",
    down_payment=Money(amount=D("60000.00"), currency=CNY),
    term_months=36,
    annual_rate_percent=D("3.5"),
)


def signed(cmd: SignContract = SIGN) -> ContractRecord:
    return plan_signing(
        cmd,
        contract_id=uuid.UUID(int=1),
        customer_id=uuid.UUID(int=2),
        phone_e164="+8613800138000",
        today=TODAY,
        now=NOW,
    )


def paid(
    contract: ContractRecord, amount: str, kind: LedgerKind = LedgerKind.FULL
) -> PaymentRecord:
    return PaymentRecord(
        dealer_id=contract.dealer_id,
        id=uuid.uuid4(),
        contract_id=contract.id,
        kind=kind,
        method="cash",
        amount=D(amount),
        currency=CNY,
        confirmed=True,
        reason=None,
        recorded_at=NOW,
    )


def amend(**change: Any) -> AmendContract:
    base = AmendContract(
        dealer_id="D001", contract_id=uuid.UUID(int=1), customer_agreed=True, dealer_agreed=True
    )
    return replace(base, **change)


# --- signing, amending, cancelling --------------------------------------------------------


def test_signing_plans_version_one_with_the_normalised_contact() -> None:
    contract = signed()
    assert (contract.version, contract.status) == (1, ContractStatus.ACTIVE)
    assert contract.contact.phone == "+8613800138000"
    assert contract.contact.name == "王芳"
    assert (contract.price, contract.currency, contract.vin) == (D("200000.00"), CNY, VIN)
    assert contract.signed_at == contract.updated_at == NOW


def test_signing_lists_every_problem_of_the_terms() -> None:
    bad = replace(
        SIGN,
        vehicle=ContractVehicle(model="Aurora X5"),
        id_document_verified=False,
        planned_delivery_on=TODAY - timedelta(days=1),
    )
    with pytest.raises(ContractNotSignable) as refused:
        signed(bad)
    assert refused.value.errors == (
        "configuration is required",
        "colour is required",
        "the customer's ID document must be verified",
        "delivery_date is in the past",
    )
    assert refused.value.problem_extensions == {"errors": list(refused.value.errors)}
    assert str(refused.value).startswith("configuration is required; colour is required")


def test_an_amendment_is_the_next_version_with_the_public_names_of_what_changed() -> None:
    contract = signed()
    later = NOW + timedelta(hours=1)
    amendment = plan_amendment(
        contract,
        amend(
            price=Money(amount=D("195000.00"), currency=CNY), planned_delivery_on=date(2025, 3, 25)
        ),
        later,
    )
    assert amendment.changed_fields == ("price", "planned_delivery_on")
    assert amendment.contract.version == 2
    assert amendment.contract.price == D("195000.00")
    assert amendment.contract.updated_at == later
    assert amendment.contract.vin == VIN  # untouched terms stay

    to_loan = plan_amendment(contract, amend(payment=LOAN), later)
    assert to_loan.changed_fields == ("payment",)  # method and loan terms: one public field
    recoloured = plan_amendment(
        contract, amend(vehicle=replace_vehicle(colour="black"), address="新地址 1 号"), later
    )
    assert recoloured.changed_fields == ("vehicle.colour", "address")


def replace_vehicle(**change: str) -> ContractVehicle:
    return SIGN.vehicle.model_copy(update=change)


def test_amendments_that_are_refused() -> None:
    contract = signed()
    with pytest.raises(CurrencyCannotChange, match="the contract is in CNY"):
        plan_amendment(contract, amend(price=Money(amount=D("1.00"), currency="USD")), NOW)
    with pytest.raises(AmendmentRefused, match="changes nothing"):
        plan_amendment(contract, amend(planned_delivery_on=SIGN.planned_delivery_on), NOW)
    with pytest.raises(AmendmentRefused, match="agreement of customer and dealer"):
        plan_amendment(contract, amend(address="x 1", dealer_agreed=False), NOW)
    cancelled = replace(contract, status=ContractStatus.CANCELLED)
    with pytest.raises(ContractNotActive) as not_active:
        plan_amendment(cancelled, amend(address="x 1"), NOW)
    assert str(not_active.value) == "a cancelled contract cannot be amended"
    assert not_active.value.problem_extensions == {"contract_status": "cancelled"}


def cancel(by: CancelledBy, costs: str | None = None) -> CancelContract:
    return CancelContract(
        dealer_id="D001",
        contract_id=uuid.UUID(int=1),
        reason="changed mind",
        cancelled_by=by,
        non_refundable_costs=None if costs is None else D(costs),
    )


def test_cancellation_refunds_per_policy() -> None:
    contract = signed()
    payments = [paid(contract, "20000.00", LedgerKind.DEPOSIT), paid(contract, "5000.00")]
    by_customer = plan_cancellation(
        contract, payments, cancel(CancelledBy.CUSTOMER, "500.00"), forfeit_deposit=False, now=NOW
    )
    assert (by_customer.version, by_customer.refund) == (2, D("24500.00"))
    forfeited = plan_cancellation(
        contract, payments, cancel(CancelledBy.CUSTOMER, "500.00"), forfeit_deposit=True, now=NOW
    )
    assert forfeited.refund == D("4500.00")
    by_dealer = plan_cancellation(
        contract, payments, cancel(CancelledBy.DEALER, "500.00"), forfeit_deposit=True, now=NOW
    )
    assert by_dealer.refund == D("25000.00")  # the dealer keeps nothing
    with pytest.raises(CancellationRefused, match="more than two decimals"):
        plan_cancellation(
            contract, payments, cancel(CancelledBy.MUTUAL, "1.005"), forfeit_deposit=False, now=NOW
        )


# --- payments, invoice, delivery ------------------------------------------------------------


def payment(amount: str, currency: str = CNY) -> RecordPayment:
    return RecordPayment(
        dealer_id="D001",
        contract_id=uuid.UUID(int=1),
        kind=PaymentKind.DEPOSIT,
        method=PaymentMethod.WECHAT_PAY,
        amount=Money(amount=D(amount), currency=currency),
        confirmed_by_finance=False,
    )


def test_a_payment_becomes_a_ledger_row() -> None:
    contract = signed()
    row = plan_payment(contract, [], payment("1000.00"), payment_id=uuid.UUID(int=9), now=NOW)
    assert (row.id, row.kind, row.method, row.amount) == (
        uuid.UUID(int=9),
        LedgerKind.DEPOSIT,
        "wechat_pay",
        D("1000.00"),
    )
    assert row.confirmed is False
    with pytest.raises(WrongCurrency):
        plan_payment(contract, [], payment("1.00", "USD"), payment_id=uuid.uuid4(), now=NOW)
    with pytest.raises(PaymentRefused, match="must be positive"):
        plan_payment(contract, [], payment("0.00"), payment_id=uuid.uuid4(), now=NOW)
    delivered = replace(contract, status=ContractStatus.DELIVERED)
    with pytest.raises(ContractNotActive, match="cannot take payments"):
        plan_payment(delivered, [], payment("1.00"), payment_id=uuid.uuid4(), now=NOW)


def invoice_for(
    contract: ContractRecord,
    existing: InvoiceRecord | None = None,
    *,
    number: str = "INV-1",
    number_taken: bool = False,
) -> InvoiceRecord | None:
    return plan_invoice(
        contract,
        existing,
        IssueInvoice(
            dealer_id="D001", contract_id=contract.id, invoice_number=number, invoice_title="王芳"
        ),
        number_taken=number_taken,
        vat_rate=DEFAULT_SALES.vat_rate,
        invoice_id=uuid.UUID(int=7),
        now=NOW,
    )


def test_the_invoice_shows_the_vat_in_the_contract_price() -> None:
    contract = signed()
    invoice = invoice_for(contract)
    assert invoice is not None
    assert (invoice.amount, invoice.tax_amount) == (D("200000.00"), D("23008.85"))
    assert invoice_for(contract, invoice) is None  # the same invoice again: nothing to do
    with pytest.raises(AlreadyInvoiced, match="invoiced as INV-1"):
        invoice_for(contract, invoice, number="INV-2")
    with pytest.raises(InvoiceNumberTaken):
        invoice_for(contract, number_taken=True)
    with pytest.raises(CancelledContractNotInvoiced):
        invoice_for(replace(contract, status=ContractStatus.CANCELLED))


def test_a_delivery_appointment_needs_a_vehicle_and_a_future_slot() -> None:
    contract = signed()
    slot = ScheduleDelivery(dealer_id="D001", contract_id=contract.id, scheduled_for=NOW)
    with pytest.raises(DeliveryInThePast):
        check_appointment(contract, slot, NOW)
    check_appointment(contract, replace(slot, scheduled_for=NOW + timedelta(days=1)), NOW)
    with pytest.raises(VinNotAssigned) as no_vin:
        check_appointment(replace(contract, vin=None), slot, NOW)
    assert no_vin.value.problem_extensions == {"missing": ["vin_not_assigned"]}


def handover(*documents: DeliveryDocument) -> DeliverVehicle:
    return DeliverVehicle(
        dealer_id="D001",
        contract_id=uuid.UUID(int=1),
        documents=documents,
        odometer_km=8,
    )


def inspection(*failed: str) -> PdiRecord:
    return PdiRecord(
        dealer_id="D001",
        contract_id=str(uuid.UUID(int=1)),
        inspector_id="tech-7",
        inspected_at=NOW,
        items=tuple(PdiItem(item, item not in failed) for item in STANDARD_PDI_ITEMS),
        recorded_at=NOW,
    )


def test_handover_counts_an_issued_invoice_and_lists_every_blocker() -> None:
    contract = signed()
    settled = [paid(contract, "200000.00")]
    without_invoice = [d for d in DeliveryDocument if d is not DeliveryDocument.INVOICE]
    handed = plan_handover(
        contract, settled, handover(*reversed(without_invoice)), invoiced=True, pdi=inspection()
    )
    assert handed == tuple(DeliveryDocument)  # checklist order, the invoice included

    with pytest.raises(DeliveryNotReady) as not_ready:
        plan_handover(
            contract,
            [paid(contract, "20000.00", LedgerKind.DEPOSIT)],
            handover(DeliveryDocument.KEYS),
            invoiced=False,
            pdi=inspection("tyres", "road_test"),
        )
    assert not_ready.value.problem_extensions == {
        "missing": [
            "pdi_not_passed",
            "certificate_of_conformity",
            "invoice",
            "maintenance_manual",
            "warranty_card",
            "balance_outstanding",
        ],
        "balance_due": {"amount": "180000.00", "currency": "CNY"},
        "pdi_failed_items": ["tyres", "road_test"],
    }
    assert str(not_ready.value).startswith("missing: pdi_not_passed, certificate_of_conformity")
    with pytest.raises(DeliveryNotReady) as no_pdi:
        plan_handover(contract, settled, handover(*DeliveryDocument), invoiced=True, pdi=None)
    assert no_pdi.value.problem_extensions["missing"] == ["pdi_missing"]
    delivered = replace(contract, status=ContractStatus.DELIVERED, delivered_at=NOW)
    with pytest.raises(AlreadyDelivered, match="was delivered at 2025-03-03T02:00:00"):
        plan_handover(
            delivered, settled, handover(*DeliveryDocument), invoiced=True, pdi=inspection()
        )


# --- showroom -------------------------------------------------------------------------------


DEFAULT_SALES = SalesPolicy()


def quote(**change: Any) -> IssueQuote:
    base = IssueQuote(
        dealer_id="D001",
        consultant_id="consultant-li",
        vehicle=ContractVehicle(model="Aurora X5"),
        vehicle_price=D("200000.00"),
        customer_id=uuid.UUID(int=3),
        discount=D("5000.00"),
    )
    return replace(base, **change)


def planned_quote(cmd: IssueQuote, sales: SalesPolicy = DEFAULT_SALES) -> QuoteRecord:
    return plan_quote(
        cmd,
        quote_id=uuid.UUID(int=4),
        customer_id=uuid.UUID(int=3),
        approval_id=uuid.UUID(int=5),
        sales=sales,
        currency=CNY,
        valid_until=date(2025, 3, 10),
        now=NOW,
    )


def test_a_quote_within_policy_needs_no_approval() -> None:
    record = planned_quote(quote())
    assert record.purchase_tax == D("17256.64")
    assert record.needs_approval is False
    assert record.approval_id is None
    assert record.payment == PaymentPlan(method="full_payment")
    assert record.loan is None


def test_a_discount_beyond_the_dealers_threshold_asks_for_approval_and_a_loan_is_planned() -> None:
    cmd = quote(discount=D("10000.01"), loan=LoanTerms(D("60000.00"), 36, D("3.5")))
    record = planned_quote(cmd)
    assert record.approval_id == uuid.UUID(int=5)
    assert record.loan is not None
    assert record.loan.principal == D("129999.99")
    assert record.loan.annual_rate_percent == D("3.5")
    assert record.payment.loan_amount == Money(amount=D("129999.99"), currency=CNY)
    lenient = SalesPolicy(discount_approval_threshold_rate=D("0.10"))
    assert planned_quote(cmd, lenient).approval_id is None
    with pytest.raises(usecases_showroom.QuoteRefused, match="discount exceeds"):
        planned_quote(quote(discount=D("250000.00")))


def test_a_test_drive_checks_the_licence_on_the_dealers_date() -> None:
    start = NOW + timedelta(days=1)
    cmd = BookTestDrive(
        dealer_id="D001",
        customer=BUYER,
        vehicle_id="TD-01",
        model="Aurora X5",
        consultant_id="consultant-li",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        licence=DriverLicence("310101199001011234", date(2025, 3, 4)),
    )
    booking = plan_test_drive(
        cmd,
        test_drive_id=uuid.UUID(int=6),
        drive_date=date(2025, 3, 4),
        now=NOW,
        turnaround=timedelta(0),
    )
    assert (booking.booking_id, booking.vehicle_id) == (str(uuid.UUID(int=6)), "TD-01")
    with pytest.raises(TestDriveRefused, match="expired"):
        plan_test_drive(
            cmd,
            test_drive_id=uuid.UUID(int=6),
            drive_date=date(2025, 3, 5),  # the day after the licence's last
            now=NOW,
            turnaround=timedelta(0),
        )


# --- problems -------------------------------------------------------------------------------


def test_every_refusal_of_a_use_case_has_its_problem() -> None:
    refusals = {
        cls
        for module in (usecases, usecases_contracts, usecases_delivery, usecases_showroom)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    }
    assert refusals - {RequestRefused} <= set(PROBLEMS), "add the missing ones to problems.py"
    assert all(
        issubclass(cls, RequestRefused) for cls, spec in PROBLEMS.items() if spec.status == 422
    )
