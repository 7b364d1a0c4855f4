"""Configuration of the leads service (environment prefix ``DEALERFLOW_LEADS_``)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.policy import DealerPolicy, policy_with_overrides
from dealerflow.runtime.settings import ServiceSettings


class LeadsSettings(ServiceSettings):
    """Leads settings; shared ``DEALERFLOW_*`` variables are the fallback of every field."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_LEADS_", extra="ignore")

    service_name: str = "leads"
    http_port: int = 8001
    #: DealerPolicy overrides for every dealer (JSON), e.g. {"leads": {"follow_up_every": ...}}.
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
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

    @cached_property
    def policy(self) -> DealerPolicy:
        """The dealer policy: DOMAIN.md defaults with ``policy_overrides`` merged in."""
        return policy_with_overrides(self.policy_overrides)
