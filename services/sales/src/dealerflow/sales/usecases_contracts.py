"""Contract use cases: sign, amend and cancel (conventions: :mod:`usecases`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from dealerflow.contracts.events.sales import (
    ContractAmended,
    ContractCancelled,
    ContractSigned,
    ContractVehicle,
    PaymentPlan,
    RefundIssued,
)
from dealerflow.contracts.money import money, non_negative
from dealerflow.contracts.types import Money
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import domain, repository_finance, usecases_quotes
from dealerflow.sales import repository as repo
from dealerflow.sales.records import (
    ContractFile,
    ContractRecord,
    ContractVersionRecord,
    PaymentRecord,
)
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import (
    Created,
    Customer,
    RequestRefused,
    dealer_date,
    get_contract,
    identify,
    locked_contract,
    require_active,
    step_replayed,
)

# --- signing ----------------------------------------------------------------------------


class ContractNotSignable(RequestRefused):
    """The terms are incomplete or invalid (every problem listed)."""


class UnknownQuote(RequestRefused):
    """The contract names a quote the dealer never issued."""


class ContractIdTaken(Exception):
    """The client chose a contract id that exists already (under another key)."""


@dataclass(frozen=True)
class SignContract:
    """Sign a purchase contract (version 1)."""

    dealer_id: str
    customer: Customer
    address: str
    id_document_verified: bool
    consultant_id: str
    vehicle: ContractVehicle
    price: Money
    payment: PaymentPlan
    planned_delivery_on: date
    contract_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    dealer_group: str | None = None
    lead_id: str | None = None
    quote_id: uuid.UUID | None = None
    request: RequestKey | None = None


def plan_signing(
    cmd: SignContract,
    *,
    contract_id: uuid.UUID,
    customer_id: uuid.UUID,
    phone_e164: str,
    today: date,
    now: datetime,
) -> ContractRecord:
    """The contract to store, if its terms can be signed (ContractNotSignable lists
    every problem otherwise); ``today`` is the dealer's date."""
    contract = ContractRecord(
        dealer_id=cmd.dealer_id,
        id=contract_id,
        customer_id=customer_id,
        version=1,
        status=domain.ContractStatus.ACTIVE,
        quote_id=cmd.quote_id,
        lead_id=cmd.lead_id,
        consultant_id=cmd.consultant_id,
        contact=cmd.customer.contact(phone_e164),
        address=cmd.address,
        identity_verified=cmd.id_document_verified,
        model=cmd.vehicle.model,
        configuration=cmd.vehicle.configuration or "",
        colour=cmd.vehicle.colour or "",
        vin=cmd.vehicle.vin,
        price=cmd.price.amount,
        currency=cmd.price.currency,
        payment=cmd.payment,
        planned_delivery_on=cmd.planned_delivery_on,
        signed_at=now,
        updated_at=now,
    )
    problems = domain.validate_contract_terms(contract.terms, today)
    if problems:
        raise ContractNotSignable(problems)
    return contract


async def sign_contract(
    uc: UseCaseContext[SalesSettings], cmd: SignContract
) -> Created[ContractFile]:
    """Version 1 of a contract and ContractSigned. A retry with the same Idempotency-Key
    or contract id gets the first contract and publishes nothing. A contract on a quote
    whose discount awaits or failed approval, or that expired, is refused
    (``usecases_quotes.QuoteNotSignable``)."""
    contract_id = cmd.contract_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="contracts", resource_id=contract_id
    )
    if earlier is not None:
        return Created(await get_contract(uc, cmd.dealer_id, earlier), created=False)
    customer_id, phone = identify(
        uc.settings, cmd.customer.phone, customer_id=cmd.customer_id, dealer_group=cmd.dealer_group
    )
    today = await dealer_date(uc, cmd.dealer_id, uc.now)
    if cmd.quote_id is not None and not await usecases_quotes.require_signable(
        uc, cmd.dealer_id, cmd.quote_id, today
    ):
        raise UnknownQuote([f"no quote {cmd.quote_id} at this dealer"])
    contract = plan_signing(
        cmd,
        contract_id=contract_id,
        customer_id=customer_id,
        phone_e164=phone,
        today=today,
        now=uc.now,
    )
    if not await repo.insert_contract(uc.conn, contract):
        raise ContractIdTaken(
            f"contract {contract_id} already exists (sent with another Idempotency-Key)"
        )
    await repo.insert_contract_version(
        uc.conn,
        contract,
        ContractVersionRecord(
            version=1, status=contract.status, changed_fields=(), reason=None, effective_at=uc.now
        ),
        agreed=cmd,
    )
    await uc.publish(
        ContractSigned(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=uc.now,
            contract_id=str(contract_id),
            contract_version=1,
            quote_id=str(cmd.quote_id) if cmd.quote_id else None,
            lead_id=cmd.lead_id,
            consultant_id=cmd.consultant_id,
            vehicle=cmd.vehicle,
            price=cmd.price,
            payment=cmd.payment,
            planned_delivery_on=cmd.planned_delivery_on,
            identity_verified=cmd.id_document_verified,
            signed_at=uc.now,
            contact=contract.contact,
        )
    )
    return Created(await get_contract(uc, cmd.dealer_id, contract_id), created=True)


# --- amending ---------------------------------------------------------------------------


class CurrencyCannotChange(RequestRefused):
    """An amendment may change the price, not the currency."""


class AmendmentRefused(RequestRefused):
    """The amendment is one-sided, changes nothing, or breaks a term rule."""


@dataclass(frozen=True)
class AmendContract:
    """Change agreed by both sides; only the terms given change."""

    dealer_id: str
    contract_id: uuid.UUID
    customer_agreed: bool
    dealer_agreed: bool
    vehicle: ContractVehicle | None = None
    price: Money | None = None
    payment: PaymentPlan | None = None
    planned_delivery_on: date | None = None
    address: str | None = None
    reason: str | None = None
    request: RequestKey | None = None


# Contract term (domain name) -> the API/event field it is published as.
_PUBLIC_FIELD = {
    "model": "vehicle.model",
    "configuration": "vehicle.configuration",
    "colour": "vehicle.colour",
    "vin": "vehicle.vin",
    "price": "price",
    "payment_plan": "payment",
    "payment_terms": "payment",
    "delivery_date": "planned_delivery_on",
    "address": "address",
}


@dataclass(frozen=True)
class Amendment:
    """The contract as amended (next version) and the public fields that changed."""

    contract: ContractRecord
    changed_fields: tuple[str, ...]


def plan_amendment(contract: ContractRecord, cmd: AmendContract, now: datetime) -> Amendment:
    """The next version of ``contract`` with the terms ``cmd`` changes, if both sides
    agreed, something changed and the new terms hold."""
    require_active(contract, "be amended")
    if cmd.price is not None and cmd.price.currency != contract.currency:
        raise CurrencyCannotChange([f"the contract is in {contract.currency}"])
    vehicle = cmd.vehicle or contract.vehicle
    amended = replace(
        contract,
        model=vehicle.model,
        configuration=vehicle.configuration or "",
        colour=vehicle.colour or "",
        vin=vehicle.vin,
        price=cmd.price.amount if cmd.price else contract.price,
        payment=cmd.payment or contract.payment,
        planned_delivery_on=cmd.planned_delivery_on or contract.planned_delivery_on,
        address=cmd.address or contract.address,
        updated_at=now,
    )
    try:
        version = domain.amend_contract(
            contract.current_version,
            amended.terms,
            customer_agreed=cmd.customer_agreed,
            dealer_agreed=cmd.dealer_agreed,
            at=now,
        )
    except domain.ContractError as exc:
        raise AmendmentRefused(str(exc).split("; ")) from None
    changed = domain.changed_fields(contract.terms, amended.terms)
    return Amendment(
        contract=replace(amended, version=version.version),
        changed_fields=tuple(dict.fromkeys(_PUBLIC_FIELD[f] for f in changed)),
    )


async def amend_contract(uc: UseCaseContext[SalesSettings], cmd: AmendContract) -> ContractFile:
    """A new version with the changed terms (both sides agreed) and ContractAmended."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "amend")) is not None:
        return done
    amendment = plan_amendment(contract, cmd, uc.now)
    amended = amendment.contract
    await repo.update_contract_terms(uc.conn, amended)
    await repo.insert_contract_version(
        uc.conn,
        amended,
        ContractVersionRecord(
            version=amended.version,
            status=amended.status,
            changed_fields=amendment.changed_fields,
            reason=cmd.reason,
            effective_at=uc.now,
        ),
        agreed=cmd,
    )
    await uc.publish(
        ContractAmended(
            dealer_id=cmd.dealer_id,
            customer_id=amended.customer_id,
            occurred_at=uc.now,
            contract_id=str(amended.id),
            contract_version=amended.version,
            changed_fields=list(amendment.changed_fields),
            vehicle=amended.vehicle,
            price=money(amended.price, amended.currency),
            payment=amended.payment,
            planned_delivery_on=amended.planned_delivery_on,
            reason=cmd.reason,
            amended_at=uc.now,
        )
    )
    return await get_contract(uc, cmd.dealer_id, cmd.contract_id)


# --- cancelling -------------------------------------------------------------------------


class CancellationRefused(RequestRefused):
    """The cancellation's figures do not add up (e.g. negative costs)."""


@dataclass(frozen=True)
class CancelContract:
    """Cancel per policy; ``non_refundable_costs`` were spent on the customer's behalf."""

    dealer_id: str
    contract_id: uuid.UUID
    reason: str
    cancelled_by: domain.CancelledBy
    non_refundable_costs: Decimal | None = None
    request: RequestKey | None = None


@dataclass(frozen=True)
class Cancellation:
    """The cancelled version's number and what goes back to the customer."""

    version: int
    refund: Decimal
    #: kept for money finance confirms after the cancellation (same rule)
    terms: domain.CancellationTerms


def plan_cancellation(
    contract: ContractRecord,
    payments: Sequence[PaymentRecord],
    cmd: CancelContract,
    *,
    forfeit_deposit: bool,
    now: datetime,
) -> Cancellation:
    """The refund the dealer's cancellation policy gives for this contract's ledger."""
    require_active(contract, "be cancelled")
    costs = cmd.non_refundable_costs if cmd.non_refundable_costs is not None else 0
    try:
        terms = domain.CancellationTerms(
            cmd.cancelled_by,
            non_negative(costs, "non_refundable_costs"),
            domain.CancellationPolicy(forfeit_deposit),
        )
        refund = terms.refund_due(contract.ledger(payments))
    except (TypeError, ValueError) as exc:
        raise CancellationRefused([str(exc)]) from None
    cancelled = domain.cancel_contract(contract.current_version, now)
    return Cancellation(version=cancelled.version, refund=refund, terms=terms)


async def cancel_contract(uc: UseCaseContext[SalesSettings], cmd: CancelContract) -> ContractFile:
    """Cancel per policy: ContractCancelled with the refund due, and RefundIssued when
    anything is paid back (recorded in the ledger in the same transaction)."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "cancel")) is not None:
        return done
    payments = await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id)
    sales = (await uc.policy(cmd.dealer_id)).sales
    cancellation = plan_cancellation(
        contract,
        payments,
        cmd,
        forfeit_deposit=sales.forfeit_deposit_on_customer_cancellation,
        now=uc.now,
    )
    await repo.mark_contract_cancelled(
        uc.conn, contract, version=cancellation.version, reason=cmd.reason, at=uc.now
    )
    await repo.insert_contract_version(
        uc.conn,
        contract,
        ContractVersionRecord(
            version=cancellation.version,
            status=domain.ContractStatus.CANCELLED,
            changed_fields=("status",),
            reason=cmd.reason,
            effective_at=uc.now,
        ),
        agreed=cmd,
    )
    await repository_finance.insert_cancellation_terms(
        uc.conn, cmd.dealer_id, contract.id, cancellation.terms, at=uc.now
    )
    refund = money(cancellation.refund, contract.currency)
    await uc.publish(
        ContractCancelled(
            dealer_id=cmd.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            contract_id=str(contract.id),
            reason=cmd.reason,
            refund_due=refund,
            cancelled_at=uc.now,
        )
    )
    if cancellation.refund > 0:
        await record_refund(
            uc,
            contract,
            cancellation.refund,
            reason=cmd.reason,
            event_reason=f"contract cancelled: {cmd.reason}",
        )
    return await get_contract(uc, cmd.dealer_id, cmd.contract_id)


async def record_refund(
    uc: UseCaseContext[SalesSettings],
    contract: ContractRecord,
    amount: Decimal,
    *,
    reason: str | None,
    event_reason: str | None,
) -> PaymentRecord:
    """Record a refund of ``amount`` (in the contract's currency) on the contract's ledger
    and publish RefundIssued: a cancellation's refund by the deposit rule, or finance's
    refund of an overpayment (``usecases_finance.issue_refund``)."""
    refund = PaymentRecord(
        dealer_id=contract.dealer_id,
        id=uuid.uuid4(),
        contract_id=contract.id,
        kind=domain.PaymentKind.REFUND,
        method=None,
        amount=amount,
        currency=contract.currency,
        confirmed=True,
        reason=reason,
        recorded_at=uc.now,
    )
    await repo.insert_payment(uc.conn, refund)
    await uc.publish(
        RefundIssued(
            dealer_id=contract.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            refund_id=str(refund.id),
            contract_id=str(contract.id),
            amount=money(refund.amount, refund.currency),
            reason=event_reason,
            refunded_at=uc.now,
        )
    )
    return refund
