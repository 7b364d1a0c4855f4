"""Wiring of the leads service: what it serves, consumes and stores (no logic here)."""

from __future__ import annotations

from collections.abc import Sequence

from dealerflow.leads import api, consumers
from dealerflow.leads.inbound import InboundLeadsWorker
from dealerflow.leads.settings import LeadsSettings
from dealerflow.runtime.service import ServiceContext, ServiceDefinition, Subscription
from fastapi import APIRouter


def _inbound_worker(ctx: ServiceContext) -> InboundLeadsWorker:
    # One worker per running app: both callables below receive the same context.
    worker: InboundLeadsWorker = vars(ctx).setdefault(
        "_leads_inbound_worker", InboundLeadsWorker(ctx, api.leads_context)
    )
    return worker


def _routers(ctx: ServiceContext) -> Sequence[APIRouter]:
    return [api.router, _inbound_worker(ctx).router()]


def _subscriptions(ctx: ServiceContext) -> Sequence[Subscription]:
    # Called only when the app runs its background work: the raw inbound consumer too.
    _inbound_worker(ctx).arm()
    return [Subscription("sales", ("sales",), consumers.router)]


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
