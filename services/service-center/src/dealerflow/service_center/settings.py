"""Configuration of the service-center service (prefix ``DEALERFLOW_SERVICE_CENTER_``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class ServiceCenterSettings(ServiceSettings):
    """After-sales settings; shared ``DEALERFLOW_*`` variables are the fallback.

    The dealer's rules (time zone, declined-item follow-up, ...) come from the dealer
    configuration (``UseCaseContext.policy``), not from here."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SERVICE_CENTER_", extra="ignore")

    service_name: str = "service-center"
    http_port: int = 8003
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
