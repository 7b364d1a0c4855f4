"""Configuration of the sales service (environment prefix ``DEALERFLOW_SALES_``).

Only how the service runs lives here. Every rule of a dealer (purchase tax and NEV relief,
discount threshold and approver, quote validity, deposit on cancellation, test-drive
turnaround, calendar and time zone) and its people come from the dealer configuration
(``await uc.policy(dealer_id)`` / ``await uc.dealer(dealer_id)``: ``DealerPolicy.sales``);
``DEALERFLOW_SALES_POLICY_OVERRIDES`` only changes the defaults of dealers that set nothing.
"""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class SalesSettings(ServiceSettings):
    """Sales settings; shared ``DEALERFLOW_*`` variables are the fallback."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SALES_", extra="ignore")

    service_name: str = "sales"
    http_port: int = 8002
    #: Region used to read phone numbers typed without a country code.
    default_phone_region: str = "CN"
    #: Currency of quotes that do not name one.
    default_currency: str = "CNY"
