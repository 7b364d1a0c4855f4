"""HTTP requests of finance's steps on a contract (:mod:`api_finance`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from dealerflow.contracts.money import money
from dealerflow.contracts.types import DealerId, Money
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import HappenedAt, MoneyIn, RequestBody, money_of
from dealerflow.sales.domain_finance import LoanDecision, LoanDecisionKind
from dealerflow.sales.usecases_finance import ConfirmPayment, IssueRefund, RecordLoanDecision

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PaymentConfirmationIn(RequestBody):
    dealer_id: DealerId

    def command(
        self,
        contract_id: uuid.UUID,
        payment_id: uuid.UUID,
        idempotency_key: str | None,
        *,
        caller: str,
    ) -> ConfirmPayment:
        return ConfirmPayment(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            payment_id=payment_id,
            confirmed_by=caller,
            request=request_of(idempotency_key, self),
        )


class LoanApprovalIn(RequestBody):
    dealer_id: DealerId
    lender: ShortText
    decision: Literal["approved", "declined"]
    reference: ShortText = Field(description="The lender's approval or case number.")
    approved_amount: MoneyIn | None = Field(default=None, description="Only for an approval.")
    decided_at: HappenedAt

    def command(
        self, contract_id: uuid.UUID, idempotency_key: str | None, *, caller: str
    ) -> RecordLoanDecision:
        return RecordLoanDecision(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            lender=self.lender,
            decision=LoanDecisionKind(self.decision),
            reference=self.reference,
            approved_amount=money_of(self.approved_amount),
            decided_at=self.decided_at,
            recorded_by=caller,
            request=request_of(idempotency_key, self),
        )


class LoanApprovalOut(BaseModel):
    lender: str
    decision: Literal["approved", "declined"]
    reference: str
    approved_amount: Money | None
    decided_at: datetime
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, d: LoanDecision) -> LoanApprovalOut:
        return cls(
            lender=d.lender,
            decision=d.decision.value,
            reference=d.reference,
            approved_amount=None
            if d.approved_amount is None
            else money(d.approved_amount, d.currency),
            decided_at=d.decided_at,
            recorded_by=d.recorded_by,
            recorded_at=d.recorded_at,
        )


class RefundIn(RequestBody):
    dealer_id: DealerId
    amount: MoneyIn
    reason: ShortText

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> IssueRefund:
        return IssueRefund(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            amount=self.amount.money(),
            reason=self.reason,
            request=request_of(idempotency_key, self),
        )
