"""Configuration of the sales service (environment prefix ``DEALERFLOW_SALES_``).

The dealer's rules (tax, discount threshold, calendar) come from the dealer configuration
(``UseCaseContext.policy``), not from here.
"""

from __future__ import annotations

from pydantic import Field
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
    #: How many days a quote holds (dealer-local dates, the issue day included).
    quote_valid_days: int = Field(default=7, ge=1)
    #: A deposit given as earnest money (定金) is kept when the customer walks away.
    forfeit_deposit_on_customer_cancellation: bool = False
    #: Minutes kept free after every test drive (cleaning, charging) before the next one.
    test_drive_turnaround_minutes: int = Field(default=0, ge=0)
