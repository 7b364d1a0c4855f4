"""Request and response bodies of the quote approval and the quote list (:mod:`api_quotes`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from dealerflow.contracts.types import DealerId
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import RequestBody
from dealerflow.sales.domain_approval import Decision
from dealerflow.sales.schemas_showroom import QuoteOut
from dealerflow.sales.usecases_quotes import DecideApproval, QuoteState

ApprovalStatusName = Literal["not_required", "pending", "approved", "rejected"]


class ApprovalIn(RequestBody):
    dealer_id: DealerId
    decision: Literal["approve", "reject"]
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
        | None
    ) = Field(default=None, description="Why (shown to the consultant).")

    def command(
        self, quote_id: uuid.UUID, idempotency_key: str | None, *, caller: str
    ) -> DecideApproval:
        return DecideApproval(
            dealer_id=self.dealer_id,
            quote_id=quote_id,
            decision=Decision(self.decision),
            decided_by=caller,
            note=self.note,
            request=request_of(idempotency_key, self),
        )


class ApprovalOut(BaseModel):
    status: ApprovalStatusName = Field(description="Where the discount approval stands.")
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


class QuoteStateOut(QuoteOut):
    """A quote with its discount approval and whether it expired (dealer's today)."""

    approval: ApprovalOut
    expired: bool

    @classmethod
    def of_state(cls, s: QuoteState) -> QuoteStateOut:
        d = s.decision
        return cls(
            **QuoteOut.of(s.quote).model_dump(),
            approval=ApprovalOut(
                status=s.approval_status.value,
                decided_by=d.decided_by if d else None,
                decided_at=d.decided_at if d else None,
                note=d.note if d else None,
            ),
            expired=s.expired,
        )
