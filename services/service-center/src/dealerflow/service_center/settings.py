"""Configuration of the service-center service (prefix ``DEALERFLOW_SERVICE_CENTER_``)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.policy import DealerPolicy, policy_with_overrides
from dealerflow.runtime.settings import ServiceSettings


class ServiceCenterSettings(ServiceSettings):
    """After-sales settings; shared ``DEALERFLOW_*`` variables are the fallback."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SERVICE_CENTER_", extra="ignore")

    service_name: str = "service-center"
    http_port: int = 8003
    #: Partial DealerPolicy (JSON in DEALERFLOW_SERVICE_CENTER_POLICY_OVERRIDES), all dealers.
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
    default_phone_region: str = "CN"
    default_currency: str = "CNY"
    #: Price of one standard labour hour when a quote does not name its rate.
    labour_rate_per_hour: Decimal = Field(default=Decimal("300.00"), ge=0)
    #: Regular maintenance interval after a maintenance visit, whichever comes first.
    #: (DealerPolicy has only the first-maintenance interval; these are the later ones.)
    maintenance_interval_km: int = Field(default=10_000, gt=0)
    maintenance_interval_months: int = Field(default=12, gt=0)
    #: Statutory minimum warranty (三包): 3 years or 60,000 km, unless the OEM gives more.
    warranty_months: int = Field(default=36, gt=0)
    warranty_km: int = Field(default=60_000, gt=0)

    def dealer_policy(self, dealer_id: str) -> DealerPolicy:
        """The rules of ``dealer_id``: DOMAIN.md defaults plus the configured overrides
        (the same for every dealer: service-center keeps no per-dealer policy table)."""
        return _policy(json.dumps(self.policy_overrides, sort_keys=True, default=str))


@lru_cache(maxsize=32)
def _policy(overrides_json: str) -> DealerPolicy:
    return policy_with_overrides(json.loads(overrides_json))
