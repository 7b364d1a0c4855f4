"""Configuration of the leads service (environment prefix ``DEALERFLOW_LEADS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class LeadsSettings(ServiceSettings):
    """Leads settings; shared ``DEALERFLOW_*`` variables are the fallback of every field.

    Everything per dealer (consultants and who is on duty, the dealer group, cadences,
    assignment strategy, calendar) comes from the dealer configuration
    (``await uc.dealer(dealer_id)``), not from here; ``policy_overrides`` and
    ``default_dealer_group`` only supply its defaults.
    """

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_LEADS_", extra="ignore")

    service_name: str = "leads"
    http_port: int = 8001
    #: Region used to read phone numbers given without a country code.
    default_region: str = "CN"
    #: Name put into the contact snapshot when a submission carries none.
    unnamed_customer: str = "客户"
    #: Run the consumer of the raw ``<prefix>inbound.leads`` topic in ``serve``.
    inbound_consumer_enabled: bool = True
