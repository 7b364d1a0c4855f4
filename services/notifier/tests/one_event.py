"""One event through the notifier's set-based use cases: the tests' shorthand for a
batch of one (the services themselves only call the batch forms, from their consumers)."""

from __future__ import annotations

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import usecases_leads, usecases_tiers
from dealerflow.notifier.domain import LeadFacts
from dealerflow.notifier.domain_tiers import PurchaseFacts, ServicePaidFacts
from dealerflow.notifier.usecases_leads import Uc


async def on_lead_created(uc: Uc, lead: LeadFacts, contact: ContactSnapshot | None) -> None:
    await usecases_leads.on_leads_created([usecases_leads.NewLead(uc, lead, contact)])


async def on_purchase(uc: Uc, facts: PurchaseFacts) -> None:
    await usecases_tiers.on_purchases([(uc, facts)])


async def on_service_paid(uc: Uc, facts: ServicePaidFacts) -> None:
    await usecases_tiers.on_services_paid([(uc, facts)])
