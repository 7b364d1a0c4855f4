"""HTTP requests of finance's steps on a contract (:mod:`api_finance`)."""

from __future__ import annotations

import uuid

from dealerflow.contracts.types import DealerId
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import RequestBody
from dealerflow.sales.usecases_finance import ConfirmPayment


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
