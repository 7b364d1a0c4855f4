"""Customer erasure in every service that holds personal data (PIPL Art. 47, GDPR Art. 17).

leads records an erasure request (``POST /v1/customers/{customer_id}/erasure``) and
publishes ``CustomerErasureRequested`` on the leads topic; it carries no personal data,
only the customer id, the store, the request id and who asked. Every service that holds
personal data declares an :data:`Eraser` on its ``ServiceDefinition(eraser=...)``; the
runtime then subscribes the service to the leads topic with :func:`erasure_router`
(consumer group ``<prefix><service>.erasure``), and on the event, in the consumer's
transaction acting for the event's dealer:

1. runs the service's eraser: it anonymises what the service holds about the customer at
   that store (contact snapshots become :func:`~dealerflow.contracts.contact.erased_contact`,
   names, notes, ID and licence numbers are cleared) and keeps the business records and
   their numbers; it returns the rows it changed per table;
2. deletes the service's stored idempotent responses that name the customer
   (``idempotency_keys``: a replayed response would hand the erased data back);
3. logs the counts (ids only) and counts the erasure in
   ``dealerflow_customer_erasures_total{service}``.

An eraser must be idempotent: the event can be delivered again (the inbox drops a
repeat, but a replayed dead letter or a second request for the same customer runs it
again, and must change nothing more).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.runtime.consumer import EventRouter
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.publisher import HandlerContext

__all__ = [
    "CUSTOMER_ERASURES",
    "Eraser",
    "Erasure",
    "erase_idempotent_responses",
    "erasure_router",
]

log = logging.getLogger("dealerflow.erasure")

CUSTOMER_ERASURES = Counter(
    "dealerflow_customer_erasures",
    "CustomerErasureRequested events this service carried out",
    ["service"],
)


@dataclass(frozen=True)
class Erasure:
    """One erasure to carry out: the customer at one store."""

    erasure_id: str
    dealer_id: str
    customer_id: UUID
    requested_at: datetime


#: A service's eraser: anonymise what it holds about ``erasure.customer_id`` at
#: ``erasure.dealer_id`` in the use case's transaction; rows changed per table.
Eraser = Callable[[UseCaseContext[Any], Erasure], Awaitable[Mapping[str, int]]]

# A stored response names its resource's customer by id; the table exists in every
# service that takes Idempotency-Key (to_regclass: not in one that does not).
_HAS_IDEMPOTENCY_KEYS = "SELECT to_regclass('idempotency_keys') IS NOT NULL"
_DELETE_RESPONSES = """
DELETE FROM idempotency_keys
WHERE dealer_id = $1 AND response IS NOT NULL AND strpos(response::text, $2) > 0
"""


async def erase_idempotent_responses(conn: DbConnection, dealer_id: str, customer_id: UUID) -> int:
    """Delete the dealer's stored idempotent responses that mention the customer; the
    number deleted (a retry of such a request after the erasure runs it again)."""
    if not await conn.fetchval(_HAS_IDEMPOTENCY_KEYS):
        return 0
    status = await conn.execute(_DELETE_RESPONSES, dealer_id, str(customer_id))
    return int(status.rsplit(" ", 1)[-1])


def erasure_router(eraser: Eraser, *, service: str) -> EventRouter:
    """The runtime's erasure subscription's router for a service with ``eraser``."""
    router = EventRouter()

    @router.on(CustomerErasureRequested)
    async def erase(ctx: HandlerContext, env: Envelope[CustomerErasureRequested]) -> None:
        event = env.event
        erasure = Erasure(
            erasure_id=event.erasure_id,
            dealer_id=event.dealer_id,
            customer_id=event.customer_id,
            requested_at=event.requested_at,
        )
        changed = dict(await eraser(ctx, erasure))
        changed["idempotency_keys"] = await erase_idempotent_responses(
            ctx.conn, erasure.dealer_id, erasure.customer_id
        )
        CUSTOMER_ERASURES.labels(service).inc()
        log.info(
            "erasure %s of customer %s at dealer %s carried out: %s",
            erasure.erasure_id,
            erasure.customer_id,
            erasure.dealer_id,
            ", ".join(f"{table} {count}" for table, count in sorted(changed.items())),
            extra={"dealer_id": erasure.dealer_id, "event_id": env.meta.id},
        )

    return router
