"""Wiring of the leads service: what it serves, consumes and stores (no logic here)."""

from __future__ import annotations

from collections.abc import Sequence

from dealerflow.contracts.topics import INBOUND_LEADS
from dealerflow.leads import (
    api,
    api_actions,
    api_appointments,
    api_erasure,
    api_reports,
    api_review,
    consumers,
)
from dealerflow.leads.problems import PROBLEMS
from dealerflow.leads.settings import LeadsSettings
from dealerflow.leads.usecases_erasure import erase_customer
from dealerflow.runtime.service import ServiceContext, ServiceDefinition, Subscription


def _subscriptions(ctx: ServiceContext[LeadsSettings]) -> Sequence[Subscription]:
    subscriptions = [
        Subscription("sales", ("sales",), consumers.router),
        Subscription("notifier", ("notifier",), consumers.router),
    ]
    if ctx.settings.inbound_consumer_enabled:
        # Raw JSON / ADF documents from lead providers: not CloudEvents.
        subscriptions.append(
            Subscription("inbound", (INBOUND_LEADS,), processor=consumers.inbound_processor)
        )
    return subscriptions


DEFINITION = ServiceDefinition(
    name="leads",
    title="dealerflow leads",
    description="Leads: submissions (JSON and ADF XML, HTTP and the inbound topic) with "
    "de-duplication by phone, assignment to the dealer's available consultants (round robin "
    "or open load), contact log, grades, invitations, appointments, loss and conversion, "
    "and customer erasure requests (PIPL / GDPR).",
    settings_factory=LeadsSettings,
    migrations_package="dealerflow.leads.migrations",
    routers=lambda ctx: [
        api.router,
        api_actions.router,
        api_appointments.router,
        api_erasure.router,
        api_reports.router,
        api_review.router,
    ],
    subscriptions=_subscriptions,
    problems=PROBLEMS,
    eraser=erase_customer,
)
