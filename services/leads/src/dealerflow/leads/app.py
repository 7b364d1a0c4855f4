"""Wiring of the leads service: what it serves, consumes and stores (no logic here)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from dealerflow.contracts.topics import INBOUND_LEADS
from dealerflow.leads import api, consumers
from dealerflow.leads.inbound import inbound_processor
from dealerflow.leads.settings import LeadsSettings
from dealerflow.runtime.service import ServiceContext, ServiceDefinition, Subscription


def _routers(ctx: ServiceContext[LeadsSettings]) -> Sequence[APIRouter]:
    return [api.router]


def _subscriptions(ctx: ServiceContext[LeadsSettings]) -> Sequence[Subscription]:
    subscriptions = [Subscription("sales", ("sales",), consumers.router)]
    settings = ctx.settings
    if isinstance(settings, LeadsSettings) and settings.inbound_consumer_enabled:
        # Raw JSON / ADF documents from lead providers: not CloudEvents, own processor.
        subscriptions.append(Subscription("inbound", (INBOUND_LEADS,), processor=inbound_processor))
    return subscriptions


DEFINITION = ServiceDefinition(
    name="leads",
    title="dealerflow leads",
    description="Leads: submissions (JSON and ADF XML, HTTP and the inbound topic) with "
    "de-duplication by phone, round-robin assignment, contact log, grades, invitations, "
    "appointments, loss and conversion.",
    settings_factory=LeadsSettings,
    migrations_package="dealerflow.leads.migrations",
    routers=_routers,
    subscriptions=_subscriptions,
)
