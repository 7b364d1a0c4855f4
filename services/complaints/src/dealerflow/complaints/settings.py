"""Configuration of the complaints service (env prefix ``DEALERFLOW_COMPLAINTS_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class ComplaintsSettings(ServiceSettings):
    """Settings of the complaints service; shared ``DEALERFLOW_*`` variables are the fallback.

    Nothing per dealer lives here: clocks, ladder and thresholds come from the dealer's
    policy and the default handler and escalation targets from its people
    (``uc.dealer(dealer_id)``; ``policy_overrides`` of the base settings only change the
    defaults every dealer starts from)."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_COMPLAINTS_", extra="ignore")

    service_name: str = "complaints"
    http_port: int = 8004
    #: How long (service clock) an automatic complaint waits for the customer's contact
    #: snapshot to arrive from another topic before its trigger is dead-lettered.
    contact_wait: timedelta = timedelta(minutes=30)
