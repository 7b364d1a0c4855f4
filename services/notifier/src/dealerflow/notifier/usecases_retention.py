"""The retention call: CustomerAtRisk opens it for the advisor. Rules: :mod:`domain_retention`."""

from __future__ import annotations

from dealerflow.notifier import domain_retention
from dealerflow.notifier.domain_retention import AtRiskFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tasks import schedule_task
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_customer_at_risk(uc: Uc, facts: AtRiskFacts) -> None:
    """The retention call, once per VIN, level and spell (a redelivery plans none)."""
    await schedule_task(uc, domain_retention.plan_retention_call(facts))
