"""Showroom use cases: transparent quotes (with discount approval) and test drives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import (
    ContractVehicle,
    DiscountApprovalRequested,
    PaymentPlan,
    QuoteIssued,
    TestDriveScheduled,
)
from dealerflow.contracts.money import ZERO, money, round_money
from dealerflow.policy import SalesPolicy
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import repository_showroom as showroom_repo
from dealerflow.sales import repository_test_drives as drives_repo
from dealerflow.sales.domain_delivery import (
    DriverLicence,
    TestDriveBooking,
    booking_conflicts,
    mask_licence_number,
    validate_drive_booking,
)
from dealerflow.sales.domain_quote import (
    AccessoryLine,
    LoanRequest,
    QuoteError,
    QuoteRequest,
    compute_quote,
    discount_approver,
)
from dealerflow.sales.domain_test_drives import fleet_problems
from dealerflow.sales.records import QuoteLoanRecord, QuoteRecord, TestDriveRecord
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import (
    Created,
    Customer,
    RequestRefused,
    dealer_date,
    identify,
)

# --- quotes -----------------------------------------------------------------------------


class QuoteNotFound(LookupError):
    """No quote with that id at that dealer."""

    def __init__(self, quote_id: uuid.UUID) -> None:
        super().__init__(f"No quote with id {quote_id}")


class QuoteRefused(RequestRefused):
    """The quote request does not add up (discount above the price, ...)."""


@dataclass(frozen=True)
class LoanTerms:
    """The loan a customer asks to be quoted."""

    down_payment: Decimal
    term_months: int
    annual_rate_percent: Decimal


@dataclass(frozen=True)
class IssueQuote:
    """Ask for a transparent quote; the customer by id, or by phone."""

    dealer_id: str
    consultant_id: str
    vehicle: ContractVehicle
    vehicle_price: Decimal  # list price, VAT included
    customer_id: uuid.UUID | None = None
    customer_phone: str | None = None
    dealer_group: str | None = None
    lead_id: str | None = None
    quote_id: uuid.UUID | None = None
    new_energy: bool = False
    currency: str | None = None
    discount: Decimal = ZERO
    insurance: Decimal = ZERO
    registration_fee: Decimal = ZERO
    accessories: tuple[AccessoryLine, ...] = ()
    extended_warranty: Decimal = ZERO
    loan: LoanTerms | None = None  # None: full payment
    request: RequestKey | None = None


def plan_quote(
    cmd: IssueQuote,
    *,
    quote_id: uuid.UUID,
    customer_id: uuid.UUID,
    approval_id: uuid.UUID,
    sales: SalesPolicy,
    currency: str,
    valid_until: date,
    now: datetime,
) -> QuoteRecord:
    """Every line of the quote under the dealer's tax and discount policy (``sales``);
    ``approval_id`` names the manager's approval when the discount needs one."""
    loan = cmd.loan
    request = QuoteRequest(
        vehicle_price=cmd.vehicle_price,
        discount=cmd.discount,
        is_nev=cmd.new_energy,
        insurance=cmd.insurance,
        registration_fee=cmd.registration_fee,
        accessories=cmd.accessories,
        extended_warranty=cmd.extended_warranty,
        loan=None
        if loan is None
        else LoanRequest(loan.down_payment, loan.term_months, loan.annual_rate_percent / 100),
    )
    try:
        quote = compute_quote(request, sales)
    except QuoteError as exc:
        raise QuoteRefused([str(exc)]) from None
    plan = quote.loan
    return QuoteRecord(
        dealer_id=cmd.dealer_id,
        id=quote_id,
        customer_id=customer_id,
        lead_id=cmd.lead_id,
        consultant_id=cmd.consultant_id,
        currency=currency,
        vehicle=cmd.vehicle,
        new_energy=cmd.new_energy,
        vehicle_price=quote.vehicle_price,
        discount=quote.discount,
        transaction_price=quote.transaction_price,
        purchase_tax=quote.purchase_tax,
        insurance=quote.insurance,
        registration_fee=quote.registration_fee,
        accessories_total=quote.accessories_total,
        extended_warranty=quote.extended_warranty,
        total=quote.total,
        due_upfront=quote.due_upfront,
        payment=PaymentPlan(
            method="loan" if plan else "full_payment",
            down_payment=money(plan.down_payment, currency) if plan else None,
            loan_amount=money(plan.principal, currency) if plan else None,
            term_months=plan.term_months if plan else None,
            annual_rate_percent=loan.annual_rate_percent if plan and loan else None,
        ),
        loan=None
        if plan is None or loan is None
        else QuoteLoanRecord(
            principal=plan.principal,
            down_payment=plan.down_payment,
            term_months=plan.term_months,
            annual_rate_percent=loan.annual_rate_percent,
            monthly_instalment=plan.monthly_instalment,
            final_instalment=plan.final_instalment,
            total_repayment=plan.total_repayment,
            total_interest=plan.total_interest,
        ),
        needs_approval=quote.discount_approval_required,
        approval_id=approval_id if quote.discount_approval_required else None,
        valid_until=valid_until,
        issued_at=now,
    )


async def get_quote(
    uc: UseCaseContext[SalesSettings], dealer_id: str, quote_id: uuid.UUID
) -> QuoteRecord:
    """The quote as issued (QuoteNotFound if the dealer has no such quote)."""
    quote = await showroom_repo.get_quote(uc.conn, dealer_id, quote_id)
    if quote is None:
        raise QuoteNotFound(quote_id)
    return quote


async def issue_quote(uc: UseCaseContext[SalesSettings], cmd: IssueQuote) -> Created[QuoteRecord]:
    """QuoteIssued, valid for the dealer's ``quote_valid_days``; plus
    DiscountApprovalRequested, addressed to the dealer's approver (``discount_approver``),
    when the discount is beyond the dealer's threshold. A retry gets the first quote."""
    quote_id = cmd.quote_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="quotes", resource_id=quote_id
    )
    if earlier is not None:
        return Created(await get_quote(uc, cmd.dealer_id, earlier), created=False)
    customer_id = cmd.customer_id
    if customer_id is None:
        assert cmd.customer_phone is not None  # a quote names the customer one way or the other
        customer_id, _ = identify(
            uc.settings, cmd.customer_phone, customer_id=None, dealer_group=cmd.dealer_group
        )
    dealer = await uc.dealer(cmd.dealer_id)
    sales = dealer.policy.sales
    today = await dealer_date(uc, cmd.dealer_id, uc.now)
    quote = plan_quote(
        cmd,
        quote_id=quote_id,
        customer_id=customer_id,
        approval_id=uuid.uuid4(),
        sales=sales,
        currency=cmd.currency or uc.settings.default_currency,
        valid_until=today + timedelta(days=sales.quote_valid_days),
        now=uc.now,
    )
    await showroom_repo.insert_quote(uc.conn, quote)
    currency = quote.currency
    await uc.publish(
        QuoteIssued(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=uc.now,
            quote_id=str(quote_id),
            lead_id=cmd.lead_id,
            consultant_id=cmd.consultant_id,
            vehicle=cmd.vehicle,
            new_energy=cmd.new_energy,
            vehicle_price=money(quote.vehicle_price, currency),
            discount=money(quote.discount, currency),
            purchase_tax=money(quote.purchase_tax, currency),
            insurance=money(quote.insurance, currency),
            registration_fee=money(quote.registration_fee, currency),
            accessories=money(quote.accessories_total, currency),
            extended_warranty=money(quote.extended_warranty, currency),
            total=money(quote.total, currency),
            payment=quote.payment,
            discount_needs_approval=quote.needs_approval,
            valid_until=quote.valid_until,
            issued_at=uc.now,
        )
    )
    if quote.approval_id is not None:
        threshold = round_money(quote.vehicle_price * sales.discount_approval_threshold_rate)
        await uc.publish(
            DiscountApprovalRequested(
                dealer_id=cmd.dealer_id,
                customer_id=customer_id,
                occurred_at=uc.now,
                approval_id=str(quote.approval_id),
                quote_id=str(quote_id),
                consultant_id=cmd.consultant_id,
                approver_id=discount_approver(dealer.people, sales, cmd.dealer_id, today),
                requested_discount=money(quote.discount, currency),
                policy_threshold=money(threshold, currency),
                requested_at=uc.now,
            )
        )
    return Created(await get_quote(uc, cmd.dealer_id, quote_id), created=True)


# --- test drives ------------------------------------------------------------------------


class TestDriveNotFound(LookupError):
    """No test drive with that id at that dealer."""

    __test__ = False  # not a pytest test class

    def __init__(self, test_drive_id: uuid.UUID) -> None:
        super().__init__(f"No test drive with id {test_drive_id}")


class TestDriveRefused(RequestRefused):
    """The drive is in the past, ends before it starts, or the licence is not valid."""

    __test__ = False


class TestDriveDoubleBooked(Exception):
    """The vehicle is booked then: the bookings in the way are listed."""

    __test__ = False

    def __init__(self, vehicle_id: str, conflicting: tuple[TestDriveBooking, ...]) -> None:
        super().__init__(f"vehicle {vehicle_id} is booked then")
        ids = [c.booking_id for c in conflicting]
        self.problem_extensions = {"conflicting_test_drive_ids": ids}


@dataclass(frozen=True)
class BookTestDrive:
    """Book a test-drive vehicle for a customer with a driver's licence."""

    __test__ = False

    dealer_id: str
    customer: Customer
    vehicle_id: str
    model: str
    consultant_id: str
    starts_at: datetime
    ends_at: datetime
    licence: DriverLicence
    route: str | None = None
    lead_id: str | None = None
    customer_id: uuid.UUID | None = None
    dealer_group: str | None = None
    test_drive_id: uuid.UUID | None = None
    request: RequestKey | None = None


def plan_test_drive(
    cmd: BookTestDrive,
    *,
    test_drive_id: uuid.UUID,
    drive_date: date,
    now: datetime,
    turnaround: timedelta,
) -> TestDriveBooking:
    """The booking, if the drive is ahead, ends after it starts and the licence holds on
    ``drive_date`` (the dealer's date of the drive); whether the slot is free is checked
    against the stored bookings under the vehicle's lock."""
    booking = TestDriveBooking(str(test_drive_id), cmd.vehicle_id, cmd.starts_at, cmd.ends_at)
    problems = validate_drive_booking(booking, (), cmd.licence, drive_date, now, turnaround)
    if problems:
        raise TestDriveRefused(problems)
    return booking


async def get_test_drive(
    uc: UseCaseContext[SalesSettings], dealer_id: str, test_drive_id: uuid.UUID
) -> TestDriveRecord:
    """The booking (TestDriveNotFound if the dealer has no such test drive)."""
    booking = await showroom_repo.get_test_drive(uc.conn, dealer_id, test_drive_id)
    if booking is None:
        raise TestDriveNotFound(test_drive_id)
    return booking


async def book_test_drive(
    uc: UseCaseContext[SalesSettings], cmd: BookTestDrive
) -> Created[TestDriveRecord]:
    """Book the vehicle, never twice for one slot (TestDriveDoubleBooked names the
    bookings in the way): TestDriveScheduled. A retry gets the first booking."""
    test_drive_id = cmd.test_drive_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope="test-drives",
        resource_id=test_drive_id,
    )
    if earlier is not None:
        return Created(await get_test_drive(uc, cmd.dealer_id, earlier), created=False)
    customer_id, phone = identify(
        uc.settings, cmd.customer.phone, customer_id=cmd.customer_id, dealer_group=cmd.dealer_group
    )
    turnaround = (await uc.policy(cmd.dealer_id)).sales.test_drive_turnaround
    booking = plan_test_drive(
        cmd,
        test_drive_id=test_drive_id,
        drive_date=await dealer_date(uc, cmd.dealer_id, cmd.starts_at),
        now=uc.now,
        turnaround=turnaround,
    )
    fleet_vehicle = await drives_repo.get_fleet_vehicle(uc.conn, cmd.dealer_id, cmd.vehicle_id)
    refused = fleet_problems(
        None if fleet_vehicle is None else fleet_vehicle.in_service,
        dealer_has_fleet=await drives_repo.dealer_has_fleet(uc.conn, cmd.dealer_id),
        vehicle_id=cmd.vehicle_id,
    )
    if refused:
        raise TestDriveRefused(refused)
    await showroom_repo.lock_test_drive_vehicle(uc.conn, cmd.dealer_id, cmd.vehicle_id)
    nearby = await showroom_repo.bookings_of_vehicle_between(
        uc.conn,
        cmd.dealer_id,
        cmd.vehicle_id,
        starts_before=cmd.ends_at + turnaround,
        ends_after=cmd.starts_at - turnaround,
    )
    clashes = booking_conflicts(booking, [b.booking for b in nearby], turnaround)
    if clashes:
        raise TestDriveDoubleBooked(cmd.vehicle_id, clashes)
    contact = cmd.customer.contact(phone)
    booked = _booked(cmd, test_drive_id, customer_id, contact, uc.now, turnaround)
    try:
        await showroom_repo.insert_test_drive(uc.conn, booked)
    except showroom_repo.SlotTaken:
        # the database's exclusion constraint: another booking got in first
        raise TestDriveDoubleBooked(cmd.vehicle_id, ()) from None
    await uc.publish(
        TestDriveScheduled(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=uc.now,
            test_drive_id=str(test_drive_id),
            lead_id=cmd.lead_id,
            vehicle_id=cmd.vehicle_id,
            model=cmd.model,
            scheduled_start=cmd.starts_at,
            scheduled_end=cmd.ends_at,
            consultant_id=cmd.consultant_id,
            route=cmd.route,
            contact=contact,
        )
    )
    return Created(await get_test_drive(uc, cmd.dealer_id, test_drive_id), created=True)


def _booked(
    cmd: BookTestDrive,
    test_drive_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact: ContactSnapshot,
    now: datetime,
    turnaround: timedelta,
) -> TestDriveRecord:
    """The booking to store: the vehicle is taken until its end plus the turnaround."""
    return TestDriveRecord(
        dealer_id=cmd.dealer_id,
        id=test_drive_id,
        customer_id=customer_id,
        lead_id=cmd.lead_id,
        vehicle_id=cmd.vehicle_id,
        model=cmd.model,
        consultant_id=cmd.consultant_id,
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        route=cmd.route,
        licence_number=mask_licence_number(cmd.licence.number),
        licence_expires=cmd.licence.expires_on,
        contact=contact,
        created_at=now,
        blocked_until=cmd.ends_at + turnaround,
    )
