"""Configuration of the service-center service (prefix ``DEALERFLOW_SERVICE_CENTER_``).

Only how the service runs lives here. Every rule of a dealer (labour rate, maintenance
intervals, warranty, declined-item follow-up, retention thresholds and tiers, calendar
and time zone) comes from the dealer configuration (``await uc.policy(dealer_id)``:
``DealerPolicy.service``, ``.owner_care``, ``.calendar``);
``DEALERFLOW_SERVICE_CENTER_POLICY_OVERRIDES`` only changes the defaults of dealers that
set nothing.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class ServiceCenterSettings(ServiceSettings):
    """After-sales settings; shared ``DEALERFLOW_*`` variables are the fallback."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SERVICE_CENTER_", extra="ignore")

    service_name: str = "service-center"
    http_port: int = 8003
    #: Region used to read phone numbers typed without a country code.
    default_phone_region: str = "CN"
    #: Currency of quotes that do not name one.
    default_currency: str = "CNY"
    #: Vehicles (and customers) the daily retention scan reads per query (keyset batches).
    retention_scan_batch_size: int = Field(default=500, ge=1)
