"""Configuration of the leads service (environment prefix ``DEALERFLOW_LEADS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class LeadsSettings(ServiceSettings):
    """Leads settings; shared ``DEALERFLOW_*`` variables are the fallback of every field.

    Dealer rules (cadences, calendar) come from ``await uc.policy(dealer_id)``, not from
    here (``policy_overrides`` is the base settings' environment source of it).
    """

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_LEADS_", extra="ignore")

    service_name: str = "leads"
    http_port: int = 8001
    #: Region used to read phone numbers given without a country code.
    default_region: str = "CN"
    #: dealer_id -> dealer group, for customer identity; unlisted dealers use
    #: ``default_dealer_group``. A request may name the group itself (X-Dealer-Group).
    dealer_groups: dict[str, str] = Field(default_factory=dict)
    #: Name put into the contact snapshot when a submission carries none.
    unnamed_customer: str = "客户"
    #: Run the consumer of the raw ``<prefix>inbound.leads`` topic in ``serve``.
    inbound_consumer_enabled: bool = True

    def dealer_group(self, dealer_id: str, requested: str | None = None) -> str:
        """The dealer group whose customer ids this dealer's leads get."""
        if requested and requested.strip():
            return requested.strip()
        return self.dealer_groups.get(dealer_id, self.default_dealer_group)
