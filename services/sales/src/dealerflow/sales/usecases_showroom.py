"""Showroom use cases: transparent quotes (with discount approval) and test drives."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from dealerflow.contracts.events.sales import (
    DiscountApprovalRequested,
    PaymentPlan,
    QuoteIssued,
    TestDriveScheduled,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.idempotency import replayed_resource, request_key
from dealerflow.runtime.problems import not_found
from dealerflow.runtime.service import ServiceContext
from dealerflow.sales import domain
from dealerflow.sales import repository_showroom as showroom_repo
from dealerflow.sales.schemas import QuoteIn, QuoteOut, TestDriveIn, TestDriveOut
from dealerflow.sales.support import (
    conflict,
    contact_snapshot,
    customer_of,
    invalid,
    local_today,
    money,
    sales_settings,
)
from dealerflow.sales.views import masked_licence, quote_out, test_drive_out


async def get_quote(conn: DbConnection, dealer_id: str, quote_id: uuid.UUID) -> QuoteOut:
    """The quote as issued (404 if the dealer has no such quote)."""
    quote = await showroom_repo.get_quote(conn, dealer_id, quote_id)
    if quote is None:
        raise not_found("Quote", quote_id)
    return quote_out(quote)


def _quote_request(cmd: QuoteIn) -> domain.QuoteRequest:
    loan = None
    if cmd.payment.method == "loan":
        # QuotePaymentIn guarantees the loan terms are present.
        assert cmd.payment.down_payment is not None
        assert cmd.payment.term_months is not None
        assert cmd.payment.annual_rate_percent is not None
        loan = domain.LoanRequest(
            down_payment=cmd.payment.down_payment,
            term_months=cmd.payment.term_months,
            annual_rate=cmd.payment.annual_rate_percent / 100,
        )
    return domain.QuoteRequest(
        vehicle_price=cmd.vehicle_price,
        discount=cmd.discount,
        is_nev=cmd.new_energy,
        insurance=cmd.insurance,
        registration_fee=cmd.registration_fee,
        accessories=tuple(
            domain.AccessoryLine(a.name, a.unit_price, a.quantity) for a in cmd.accessories
        ),
        extended_warranty=cmd.extended_warranty,
        loan=loan,
    )


async def issue_quote(
    conn: DbConnection, ctx: ServiceContext[Any], cmd: QuoteIn, idem_key: str | None
) -> tuple[QuoteOut, bool]:
    """Compute the quote (domain.compute_quote with the dealer's tax and discount policy):
    QuoteIssued, plus DiscountApprovalRequested for the sales manager when the discount
    is beyond the threshold. (quote, created); a retry returns the first quote."""
    settings = sales_settings(ctx)
    quote_id = cmd.quote_id or uuid.uuid4()
    earlier = await replayed_resource(
        conn,
        dealer_id=cmd.dealer_id,
        scope="quotes",
        key=request_key(idem_key, cmd.quote_id),
        body=cmd,
        resource_id=quote_id,
    )
    if earlier is not None:
        return await get_quote(conn, cmd.dealer_id, earlier), False
    customer_id = cmd.customer_id
    if customer_id is None:
        assert cmd.customer_phone is not None  # checked by QuoteIn
        customer_id, _ = customer_of(
            settings, customer_id=None, dealer_group=cmd.dealer_group, raw_phone=cmd.customer_phone
        )
    sales_policy = settings.dealer_policy(cmd.dealer_id).sales
    try:
        quote = domain.compute_quote(
            _quote_request(cmd),
            domain.PurchaseTaxPolicy.from_sales_policy(sales_policy),
            sales_policy.discount_approval_threshold_rate,
        )
    except domain.QuoteError as exc:
        raise invalid("Quote refused", [str(exc)], slug="invalid-quote") from None
    currency = cmd.currency or settings.default_currency
    now = ctx.clock.now()
    valid_until = local_today(settings, cmd.dealer_id, now) + timedelta(
        days=settings.quote_valid_days
    )
    plan = quote.loan
    payment = PaymentPlan(
        method=cmd.payment.method,
        down_payment=money(plan.down_payment, currency) if plan else None,
        loan_amount=money(plan.principal, currency) if plan else None,
        term_months=plan.term_months if plan else None,
        annual_rate_percent=cmd.payment.annual_rate_percent if plan else None,
    )
    approval_id = uuid.uuid4() if quote.discount_approval_required else None
    amounts = {
        name: str(getattr(quote, name))
        for name in (
            "vehicle_price",
            "discount",
            "transaction_price",
            "purchase_tax",
            "insurance",
            "registration_fee",
            "accessories_total",
            "extended_warranty",
            "total",
            "due_upfront",
        )
    }
    loan = None
    if plan is not None:
        loan = {
            "principal": str(plan.principal),
            "down_payment": str(plan.down_payment),
            "term_months": plan.term_months,
            "annual_rate_percent": str(cmd.payment.annual_rate_percent),
            "monthly_instalment": str(plan.monthly_instalment),
            "final_instalment": str(plan.final_instalment),
            "total_repayment": str(plan.total_repayment),
            "total_interest": str(plan.total_interest),
        }
    await showroom_repo.insert_quote(
        conn,
        {
            "dealer_id": cmd.dealer_id,
            "id": quote_id,
            "customer_id": customer_id,
            "lead_id": cmd.lead_id,
            "consultant_id": cmd.consultant_id,
            "currency": currency,
            "vehicle": cmd.vehicle.model_dump(mode="json"),
            "new_energy": cmd.new_energy,
            "lines": amounts,
            "payment": payment.model_dump(mode="json"),
            "loan": loan,
            "total": quote.total,
            "needs_approval": quote.discount_approval_required,
            "approval_id": approval_id,
            "valid_until": valid_until,
            "issued_at": now,
        },
    )
    common = {"dealer_id": cmd.dealer_id, "customer_id": customer_id, "occurred_at": now}
    await ctx.publish(
        conn,
        QuoteIssued(
            **common,
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
            payment=payment,
            discount_needs_approval=quote.discount_approval_required,
            valid_until=valid_until,
            issued_at=now,
        ),
    )
    if approval_id is not None:
        threshold = domain.round_money(
            quote.vehicle_price * sales_policy.discount_approval_threshold_rate
        )
        await ctx.publish(
            conn,
            DiscountApprovalRequested(
                **common,
                approval_id=str(approval_id),
                quote_id=str(quote_id),
                consultant_id=cmd.consultant_id,
                approver_id=f"sales-manager:{cmd.dealer_id}",
                requested_discount=money(quote.discount, currency),
                policy_threshold=money(threshold, currency),
                requested_at=now,
            ),
        )
    return await get_quote(conn, cmd.dealer_id, quote_id), True


async def get_test_drive(
    conn: DbConnection, dealer_id: str, test_drive_id: uuid.UUID
) -> TestDriveOut:
    """The booking (404 if the dealer has no such test drive)."""
    booking = await showroom_repo.get_test_drive(conn, dealer_id, test_drive_id)
    if booking is None:
        raise not_found("Test drive", test_drive_id)
    return test_drive_out(booking)


async def book_test_drive(
    conn: DbConnection, ctx: ServiceContext[Any], cmd: TestDriveIn, idem_key: str | None
) -> tuple[TestDriveOut, bool]:
    """Book a test-drive vehicle: licence valid on the day, slot in the future and free
    (a 409 names the bookings in the way). TestDriveScheduled."""
    settings = sales_settings(ctx)
    test_drive_id = cmd.test_drive_id or uuid.uuid4()
    earlier = await replayed_resource(
        conn,
        dealer_id=cmd.dealer_id,
        scope="test-drives",
        key=request_key(idem_key, cmd.test_drive_id),
        body=cmd,
        resource_id=test_drive_id,
    )
    if earlier is not None:
        return await get_test_drive(conn, cmd.dealer_id, earlier), False
    customer_id, phone = customer_of(
        settings,
        customer_id=cmd.customer_id,
        dealer_group=cmd.dealer_group,
        raw_phone=cmd.customer.phone,
    )
    now = ctx.clock.now()
    booking = domain.TestDriveBooking(
        str(test_drive_id), cmd.vehicle_id, cmd.starts_at, cmd.ends_at
    )
    licence = domain.DriverLicence(cmd.licence.number, cmd.licence.expires_on)
    drive_date = local_today(settings, cmd.dealer_id, cmd.starts_at)
    turnaround = timedelta(minutes=settings.test_drive_turnaround_minutes)
    problems = domain.validate_drive_booking(booking, (), licence, drive_date, now, turnaround)
    if problems:
        raise invalid("Test drive cannot be booked", problems, slug="invalid-test-drive")
    await showroom_repo.lock_test_drive_vehicle(conn, cmd.dealer_id, cmd.vehicle_id)
    nearby = await showroom_repo.bookings_of_vehicle_between(
        conn,
        cmd.dealer_id,
        cmd.vehicle_id,
        starts_before=cmd.ends_at + turnaround,
        ends_after=cmd.starts_at - turnaround,
    )
    clashes = domain.booking_conflicts(
        booking,
        [
            domain.TestDriveBooking(str(r["id"]), r["vehicle_id"], r["starts_at"], r["ends_at"])
            for r in nearby
        ],
        turnaround,
    )
    if clashes:
        raise conflict(
            "Test-drive vehicle already booked",
            f"vehicle {cmd.vehicle_id} is booked then",
            slug="test-drive-double-booking",
            conflicting_test_drive_ids=[c.booking_id for c in clashes],
        )
    contact = contact_snapshot(cmd.customer, phone)
    await showroom_repo.insert_test_drive(
        conn,
        {
            "dealer_id": cmd.dealer_id,
            "id": test_drive_id,
            "customer_id": customer_id,
            "lead_id": cmd.lead_id,
            "vehicle_id": cmd.vehicle_id,
            "model": cmd.model,
            "consultant_id": cmd.consultant_id,
            "starts_at": cmd.starts_at,
            "ends_at": cmd.ends_at,
            "route": cmd.route,
            "licence_number": masked_licence(cmd.licence.number),
            "licence_expires": cmd.licence.expires_on,
            "contact": contact.model_dump(mode="json"),
            "created_at": now,
        },
    )
    await ctx.publish(
        conn,
        TestDriveScheduled(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=now,
            test_drive_id=str(test_drive_id),
            lead_id=cmd.lead_id,
            vehicle_id=cmd.vehicle_id,
            model=cmd.model,
            scheduled_start=cmd.starts_at,
            scheduled_end=cmd.ends_at,
            consultant_id=cmd.consultant_id,
            route=cmd.route,
            contact=contact,
        ),
    )
    return await get_test_drive(conn, cmd.dealer_id, test_drive_id), True
