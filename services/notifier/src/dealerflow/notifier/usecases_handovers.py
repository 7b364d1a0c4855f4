"""Reactions to a serviced vehicle handed back (VehicleHandedOver), set-based over a batch
of events: the advisor's follow-up callback (a VIP's also as the service manager's
courtesy call) and the amount paid as service spend for the customer's tier. Same
conventions as `usecases_deliveries`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import domain, usecases_tiers
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain_tiers import ServicePaidFacts
from dealerflow.notifier.domain_types import HandoverFacts, StaffRole
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import Plan, apply_plans, remember_contacts, rounds_by_customer
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


@dataclass(frozen=True, slots=True)
class HandedOver:
    """A VehicleHandedOver to react to in the context ``uc`` of its event (``paid``: what
    counts as service spend for the customer's tier; None: nothing)."""

    uc: Uc
    handover: HandoverFacts
    contact: ContactSnapshot | None
    paid: ServicePaidFacts | None = None


async def on_vehicles_handed_over(handovers: Sequence[HandedOver]) -> None:
    """React to serviced vehicles handed back (a batch of events in one transaction, each
    effect caused by its own event), with one statement per table per round
    (`rounds_by_customer`): the contact snapshot; the advisor's follow-up callback 3 days
    after the handover (a VIP's also as the service manager's courtesy call,
    `usecases_tiers.courtesy_calls_of`); the amount paid counts as service spend
    (`usecases_tiers.on_services_paid`)."""
    for batch in rounds_by_customer(handovers, lambda h: h.handover):
        await remember_contacts(
            batch[0].uc,
            [
                repo.ContactSeen(
                    h.handover.dealer_id,
                    h.handover.customer_id,
                    h.contact,
                    h.handover.handed_over_at,
                )
                for h in batch
                if h.contact is not None
            ],
        )
        followups = [
            domain.plan_service_followup(h.handover, await h.uc.policy(h.handover.dealer_id))
            for h in batch
        ]
        courtesy = await usecases_tiers.courtesy_calls_of(
            [(h.uc, [f]) for h, f in zip(batch, followups, strict=True)],
            StaffRole.SERVICE_MANAGER,
        )
        await apply_plans(
            [
                Plan(h.uc, [f, *calls], h.contact)
                for h, f, calls in zip(batch, followups, courtesy, strict=True)
            ]
        )
        await usecases_tiers.on_services_paid([(h.uc, h.paid) for h in batch if h.paid])
