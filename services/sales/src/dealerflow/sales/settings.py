"""Configuration of the sales service (environment prefix ``DEALERFLOW_SALES_``)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.policy import DealerPolicy, policy_with_overrides
from dealerflow.runtime.settings import ServiceSettings


class SalesSettings(ServiceSettings):
    """Sales settings; shared ``DEALERFLOW_*`` variables are the fallback."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SALES_", extra="ignore")

    service_name: str = "sales"
    http_port: int = 8002
    #: Partial DealerPolicy (JSON in DEALERFLOW_SALES_POLICY_OVERRIDES) for every dealer.
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
    #: Region used to read phone numbers typed without a country code.
    default_phone_region: str = "CN"
    #: Currency of quotes that do not name one.
    default_currency: str = "CNY"
    #: How many days a quote holds (dealer-local dates, the issue day included).
    quote_valid_days: int = Field(default=7, ge=1)
    #: A deposit given as earnest money (定金) is kept when the customer walks away.
    forfeit_deposit_on_customer_cancellation: bool = False
    #: Minutes kept free after every test drive (cleaning, charging) before the next one.
    test_drive_turnaround_minutes: int = Field(default=0, ge=0)

    def dealer_policy(self, dealer_id: str) -> DealerPolicy:
        """The rules of ``dealer_id``: DOMAIN.md defaults plus the configured overrides.

        Sales has no per-dealer policy table (notifier and complaints do), so every dealer
        gets the same overrides; the parameter keeps call sites ready for one.
        """
        return _policy(json.dumps(self.policy_overrides, sort_keys=True, default=str))


@lru_cache(maxsize=32)
def _policy(overrides_json: str) -> DealerPolicy:
    return policy_with_overrides(json.loads(overrides_json))
