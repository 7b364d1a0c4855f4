"""HTTP API of the consent store (/v1/customers/{customer_id}/consents): staff record a
customer's consent or opt-out per purpose and channel, and read the current consents and
their history (the dealer's staff, ``allow(*STAFF)``); the SMS gateway relays customers'
replies (/v1/inbound/sms, ``allow(Role.INTEGRATION)``). Every change publishes
ConsentChanged and applies at once to every message not sent yet."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.notifier import usecases_consent as uc_consent
from dealerflow.notifier.schemas_consent import (
    ConsentHistoryPage,
    ConsentIn,
    ConsentOut,
    CustomerConsentsOut,
    InboundSmsIn,
    InboundSmsOut,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.auth import STAFF, Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader, request_of
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1")

DealerQuery = Annotated[
    str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code; required.")
]
Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]


@router.post(
    "/customers/{customer_id}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["consent"],
    dependencies=[allow(*STAFF)],
)
async def record_consent(
    ctx: Ctx,
    customer_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: ConsentIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ConsentOut:
    """Record a consent or an opt-out (recorded by the caller, now) and publish
    ConsentChanged; a retry with the same Idempotency-Key gets the first change."""
    cmd = uc_consent.RecordConsent(
        dealer_id=dealer_id,
        customer_id=customer_id,
        purpose=body.purpose,
        channel=body.channel,
        granted=body.granted,
        source=ConsentSource(body.source),
        request=request_of(idempotency_key, body),
    )
    change = await ctx.run_in_transaction(lambda uc: uc_consent.record_consent(uc, cmd))
    return ConsentOut.of(change)


@router.get(
    "/customers/{customer_id}/consents",
    response_model=CustomerConsentsOut,
    tags=["consent"],
    dependencies=[allow(*STAFF)],
)
async def get_consents(
    ctx: Ctx, customer_id: uuid.UUID, dealer_id: DealerQuery
) -> CustomerConsentsOut:
    """The customer's current consents (the newest change per purpose and channel)."""
    view = await ctx.run_in_transaction(
        lambda uc: uc_consent.consents_of(uc, dealer_id, customer_id)
    )
    return CustomerConsentsOut.of(view)


@router.get(
    "/customers/{customer_id}/consents/history",
    response_model=ConsentHistoryPage,
    tags=["consent"],
    dependencies=[allow(*STAFF)],
)
async def get_consent_history(
    ctx: Ctx,
    customer_id: uuid.UUID,
    dealer_id: DealerQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ConsentHistoryPage:
    """Every consent change of the customer (who, from where, when), oldest first."""
    after = decode_cursor(cursor, datetime, str)
    rows = await ctx.run_in_transaction(
        lambda uc: uc_consent.consent_history(
            uc, dealer_id, customer_id, after=after, limit=limit + 1
        )
    )
    page, next_cursor = page_of(rows, limit, lambda c: (c.changed_at, c.consent_id))
    return ConsentHistoryPage(items=[ConsentOut.of(c) for c in page], next_cursor=next_cursor)


@router.post(
    "/inbound/sms",
    response_model=InboundSmsOut,
    status_code=status.HTTP_201_CREATED,
    tags=["consent"],
    dependencies=[allow(Role.INTEGRATION)],
)
async def receive_sms(
    ctx: Ctx, body: InboundSmsIn, idempotency_key: IdempotencyKeyHeader = None
) -> InboundSmsOut:
    """An SMS from a customer (the SMS gateway): TD, T, STOP, 退订 or N opt the sender's
    customers out of marketing SMS (ConsentChanged each); other texts are recorded and
    ignored. A retry with the same Idempotency-Key gets the first answer."""
    cmd = uc_consent.ReceiveSms(
        dealer_id=body.dealer_id,
        phone=body.from_phone,
        text=body.text,
        received_at=body.received_at,
        request=request_of(idempotency_key, body),
    )
    return InboundSmsOut.of(
        await ctx.run_in_transaction(lambda uc: uc_consent.receive_sms(uc, cmd))
    )
