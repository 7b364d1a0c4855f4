"""Investigation of a complaint (DOMAIN.md section 4: "investigate (pull the RO and sales
history); determine responsibility; agree measures; reply; customer confirms").

- The customer's sales at the dealer are kept from the sales topic (ContractSigned,
  VehicleDelivered, ContractCancelled: `customer_sales`), the repair orders from the
  service topic (the repeat-repair read model, `repair_visits`): reading an investigation
  never calls another service.
- The responsibility (responsible department and person), cause and measures are what
  the resolution recorded; the customer's confirmation of the resolution is a step of
  its own (`confirm_resolution`), recorded per answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass

from dealerflow.complaints import (
    repository,
    repository_investigation,
    repository_repairs,
    repository_sales,
)
from dealerflow.complaints.domain import ComplaintStatus
from dealerflow.complaints.records import ComplaintRecord, Investigation
from dealerflow.complaints.usecases import ActionNotAllowed, Run, Uc, load_for_update, reload
from dealerflow.complaints.usecases_actions import ComplaintCommand
from dealerflow.contracts.enums import ContactChannel
from dealerflow.contracts.events.sales import ContractCancelled, ContractSigned, VehicleDelivered
from dealerflow.runtime.batches import rounds

# -- the sales read model (consumers) --------------------------------------------------------


def _contract(pair: tuple[Uc, ContractSigned | VehicleDelivered]) -> list[Hashable]:
    return [(pair[1].dealer_id, pair[1].contract_id)]


async def on_contracts_signed(run: Run[ContractSigned]) -> None:
    """Remember the sales: vehicle, price and the consultant who closed each (one
    statement per round of the run)."""
    for signed in rounds(run, _contract):
        await repository_sales.record_signed(signed[0][0].conn, [event for _, event in signed])


async def on_vehicles_delivered(run: Run[VehicleDelivered]) -> None:
    """Remember the deliveries of the sales (an outside DMS's delivery without a contract
    seen here is kept alone); one statement per round of the run."""
    for delivered in rounds(run, _contract):
        await repository_sales.record_delivered(
            delivered[0][0].conn, [event for _, event in delivered]
        )


async def on_contract_cancelled(uc: Uc, event: ContractCancelled) -> None:
    """The sale was cancelled before delivery: shown so."""
    await repository_sales.record_cancelled(
        uc.conn,
        dealer_id=event.dealer_id,
        contract_id=event.contract_id,
        customer_id=event.customer_id,
        cancelled_at=event.cancelled_at,
    )


# -- reading ---------------------------------------------------------------------------------


async def investigation_of(uc: Uc, dealer_id: str, complaint_id: uuid.UUID) -> Investigation:
    """The complaint with the customer's sales and repair orders at the dealer (those of
    the customer, and of the complaint's and the sales' vehicles) and its confirmations;
    `ComplaintNotFound`."""
    complaint = await reload(uc, dealer_id, complaint_id)
    sales = await repository_sales.sales_of_customer(uc.conn, dealer_id, complaint.customer_id)
    vins = sorted({s.vin for s in sales if s.vin} | ({complaint.vin} if complaint.vin else set()))
    repairs = await repository_repairs.repairs_of_customer(
        uc.conn, dealer_id, complaint.customer_id, vins
    )
    confirmations = await repository_investigation.confirmations_of(
        uc.conn, dealer_id, complaint_id
    )
    return Investigation(complaint, sales, repairs, confirmations)


# -- the customer's confirmation -------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmResolution(ComplaintCommand):
    """The customer's answer to the resolution they were given: ``confirmed`` (accepts
    it) or not, told by ``channel``, recorded by staff ``by`` (default: the caller)."""

    confirmed: bool
    channel: ContactChannel | None = None
    note: str | None = None
    by: str | None = None


async def confirm_resolution(uc: Uc, cmd: ConfirmResolution) -> ComplaintRecord:
    """Record the customer's answer to a resolved complaint. The status does not change:
    closing stays the manager's sign-off (``close`` with ``customer_confirmed``), and a
    customer who does not accept it is reopened by staff (``reopen``)."""
    complaint = await load_for_update(uc, cmd.dealer_id, cmd.complaint_id)
    if complaint.status is not ComplaintStatus.RESOLVED:
        raise ActionNotAllowed(
            f"only a resolved complaint is confirmed by the customer; this one is "
            f"{complaint.status.value}"
        )
    who = cmd.by or uc.actor
    channel = cmd.channel.value if cmd.channel else None
    await repository_investigation.add_confirmation(
        uc.conn,
        dealer_id=cmd.dealer_id,
        complaint_id=cmd.complaint_id,
        reopen_count=complaint.reopen_count,
        confirmed=cmd.confirmed,
        channel=channel,
        note=cmd.note,
        recorded_by=who,
        at=uc.now,
    )
    await repository.add_history(
        uc.conn,
        dealer_id=cmd.dealer_id,
        complaint_id=cmd.complaint_id,
        action="customer_confirmation",
        actor=who,
        at=uc.now,
        details={"confirmed": cmd.confirmed, "channel": channel, "note": cmd.note},
    )
    return await reload(uc, cmd.dealer_id, cmd.complaint_id)
