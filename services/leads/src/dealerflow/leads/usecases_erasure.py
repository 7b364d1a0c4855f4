"""Customer erasure (PIPL Art. 47, GDPR Art. 17): leads records the request and publishes
``CustomerErasureRequested``; every service with personal data, leads included, anonymises
what it holds about the customer at that store when the event arrives
(:mod:`dealerflow.runtime.erasure`, ``ServiceDefinition.eraser``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dealerflow.contracts.contact import erased_contact
from dealerflow.contracts.events.leads import CustomerErasureRequested, ErasureBasis
from dealerflow.leads import repository_erasure as repo
from dealerflow.leads.records import ErasureRecord
from dealerflow.leads.usecases import Uc
from dealerflow.runtime.erasure import Erasure

#: The erased contact as stored (the row's own locale is put back by the SQL).
_ERASED_CONTACT = erased_contact().model_dump_json(exclude={"locale"})


@dataclass(frozen=True)
class RequestErasure:
    """A manager records that a customer asked to be erased at a store."""

    dealer_id: str
    customer_id: uuid.UUID
    basis: ErasureBasis
    requested_by: str


async def request_erasure(uc: Uc, command: RequestErasure) -> ErasureRecord:
    """Record the request and publish it (no personal data: ids, basis, who, when)."""
    erasure = ErasureRecord(
        dealer_id=command.dealer_id,
        erasure_id=uuid.uuid4(),
        customer_id=command.customer_id,
        basis=command.basis,
        requested_by=command.requested_by,
        requested_at=uc.now,
    )
    await repo.insert_erasure(uc.conn, erasure)
    await uc.publish(
        CustomerErasureRequested(
            dealer_id=erasure.dealer_id,
            customer_id=erasure.customer_id,
            occurred_at=uc.now,
            erasure_id=str(erasure.erasure_id),
            basis=command.basis,
            requested_by=erasure.requested_by,
            requested_at=erasure.requested_at,
        )
    )
    return erasure


async def erasures_of(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> list[ErasureRecord]:
    """The customer's erasure requests at the dealer, newest first."""
    return await repo.erasures_of(uc.conn, dealer_id, customer_id)


async def erase_customer(uc: Uc, erasure: Erasure) -> dict[str, int]:
    """leads' eraser: anonymise the customer's leads at the store
    (:func:`repository_erasure.anonymise_customer` says which fields) and mark the
    request carried out at leads."""
    changed = await repo.anonymise_customer(
        uc.conn, erasure.dealer_id, erasure.customer_id, _ERASED_CONTACT
    )
    try:
        erasure_id = uuid.UUID(erasure.erasure_id)
    except ValueError:
        return changed  # a request recorded elsewhere (an outside system's id)
    await repo.mark_carried_out(uc.conn, erasure.dealer_id, erasure_id, uc.now)
    return changed
