"""Finance's steps on a contract: confirming a payment a salesperson entered. Same shape
as :mod:`usecases`: a command in, the contract file out, refusals as exceptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.events.sales import LoanDecided, PaymentConfirmed
from dealerflow.contracts.money import money
from dealerflow.contracts.types import Money
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import domain, domain_finance, repository_finance
from dealerflow.sales import repository as repo
from dealerflow.sales.records import ContractFile, ContractRecord
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import RequestRefused, locked_contract, require_active, step_replayed
from dealerflow.sales.usecases_contracts import record_refund


class PaymentNotFound(LookupError):
    """No such payment on that contract."""

    def __init__(self, payment_id: uuid.UUID) -> None:
        super().__init__(f"No payment with id {payment_id} on this contract")


class RefundNotConfirmable(Exception):
    """A refund counts as soon as it is recorded; it has no confirmation step."""


class LoanNotApproved(Exception):
    """A loan disbursement without (or beyond) the lender's approval; the reason says."""


@dataclass(frozen=True)
class ConfirmPayment:
    """Finance confirms that the money of an entered payment arrived."""

    dealer_id: str
    contract_id: uuid.UUID
    payment_id: uuid.UUID
    confirmed_by: str
    request: RequestKey | None = None


async def confirm_payment(uc: UseCaseContext[SalesSettings], cmd: ConfirmPayment) -> ContractFile:
    """Mark the payment confirmed (who, when) and publish PaymentConfirmed: from now on it
    counts towards the balance.
    Confirming a confirmed payment changes nothing (the first confirmation stays)."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (
        done := await step_replayed(uc, contract, cmd.request, f"confirm:{cmd.payment_id}")
    ) is not None:
        return done
    payments = await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id)
    payment = next((p for p in payments if p.id == cmd.payment_id), None)
    if payment is None:
        raise PaymentNotFound(cmd.payment_id)
    if payment.kind is domain.PaymentKind.REFUND:
        raise RefundNotConfirmable("a refund counts when it is recorded; nothing to confirm")
    confirmation = domain_finance.confirm(payment.confirmed, cmd.confirmed_by, uc.now)
    if confirmation is not None:
        await repository_finance.confirm_payment(
            uc.conn,
            cmd.dealer_id,
            payment.id,
            confirmed_by=confirmation.confirmed_by,
            confirmed_at=confirmation.confirmed_at,
        )
        await uc.publish(
            PaymentConfirmed(
                dealer_id=cmd.dealer_id,
                customer_id=contract.customer_id,
                occurred_at=uc.now,
                payment_id=str(payment.id),
                contract_id=str(contract.id),
                amount=money(payment.amount, payment.currency),
                confirmed_by=confirmation.confirmed_by,
                confirmed_at=confirmation.confirmed_at,
            )
        )
        if contract.status is domain.ContractStatus.CANCELLED:
            await refund_after_cancellation(uc, contract)
    return await repo.contract_file(uc.conn, contract)


async def refund_after_cancellation(
    uc: UseCaseContext[SalesSettings], contract: ContractRecord
) -> None:
    """Money confirmed after the contract's cancellation goes back by the cancellation's
    deposit rule (RefundIssued), as it would have at the cancellation."""
    terms = await repository_finance.get_cancellation_terms(
        uc.conn, contract.dealer_id, contract.id
    )
    if terms is None:
        return
    payments = await repo.list_payments(uc.conn, contract.dealer_id, contract.id)
    due = terms.refund_due(contract.ledger(payments))
    if due > 0:
        await record_refund(
            uc,
            contract,
            due,
            reason="payment confirmed after the cancellation",
            event_reason="contract cancelled: payment confirmed after the cancellation",
        )


class LoanDecisionRefused(RequestRefused):
    """The lender's decision is incomplete or inconsistent (errors listed)."""


@dataclass(frozen=True)
class RecordLoanDecision:
    """Finance records the lender's decision on the contract's loan."""

    dealer_id: str
    contract_id: uuid.UUID
    lender: str
    decision: domain_finance.LoanDecisionKind
    reference: str
    approved_amount: Money | None
    decided_at: datetime
    recorded_by: str
    request: RequestKey | None = None


async def record_loan_decision(
    uc: UseCaseContext[SalesSettings], cmd: RecordLoanDecision
) -> ContractFile:
    """Record (or replace) the lender's decision; an approval lets loan disbursements
    count up to the approved amount, a decline means another payment plan is needed."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "loan-approval")) is not None:
        return done
    require_active(contract, "record a loan decision")
    if cmd.approved_amount is not None and cmd.approved_amount.currency != contract.currency:
        raise LoanDecisionRefused([f"the contract is in {contract.currency}"])
    decision = domain_finance.LoanDecision(
        lender=cmd.lender,
        decision=cmd.decision,
        reference=cmd.reference,
        approved_amount=None if cmd.approved_amount is None else cmd.approved_amount.amount,
        currency=contract.currency,
        decided_at=cmd.decided_at,
        recorded_by=cmd.recorded_by,
        recorded_at=uc.now,
    )
    if errors := domain_finance.loan_decision_errors(decision, uc.now):
        raise LoanDecisionRefused(errors)
    await repository_finance.upsert_loan_decision(uc.conn, cmd.dealer_id, contract.id, decision)
    await uc.publish(
        LoanDecided(
            dealer_id=cmd.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            contract_id=str(contract.id),
            lender=decision.lender,
            decision=decision.decision.value,
            reference=decision.reference,
            approved_amount=None if cmd.approved_amount is None else cmd.approved_amount,
            decided_at=decision.decided_at,
        )
    )
    return await repo.contract_file(uc.conn, contract)


class RefundRefused(RequestRefused):
    """A refund in another currency than the contract's."""


class RefundNotAllowed(Exception):
    """More than the refund rule allows; the reason says how much may go back."""


@dataclass(frozen=True)
class IssueRefund:
    """Finance pays money back outside a cancellation (an overpayment)."""

    dealer_id: str
    contract_id: uuid.UUID
    amount: Money
    reason: str
    request: RequestKey | None = None


async def issue_refund(uc: UseCaseContext[SalesSettings], cmd: IssueRefund) -> ContractFile:
    """A refund row and RefundIssued, at most what the rule allows (the overpayment)."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "refunds")) is not None:
        return done
    if cmd.amount.currency != contract.currency:
        raise RefundRefused([f"the contract is in {contract.currency}"])
    payments = await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id)
    allowed = domain_finance.refund_allowed(
        contract.ledger(payments), contract.status is domain.ContractStatus.ACTIVE
    )
    if cmd.amount.amount <= 0 or cmd.amount.amount > allowed:
        raise RefundNotAllowed(
            f"at most {allowed} {contract.currency} may be refunded (the overpayment of an"
            " active contract; a cancellation refunds by the dealer's deposit rule)"
        )
    await record_refund(uc, contract, cmd.amount.amount, reason=cmd.reason, event_reason=cmd.reason)
    return await repo.contract_file(uc.conn, contract)
