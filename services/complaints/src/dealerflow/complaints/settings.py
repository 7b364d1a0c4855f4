"""Configuration of the complaints service (env prefix ``DEALERFLOW_COMPLAINTS_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.settings import ServiceSettings


class ComplaintsSettings(ServiceSettings):
    """Settings of the complaints service; shared ``DEALERFLOW_*`` variables are the fallback.

    ``policy_overrides`` (of the base settings) apply to every dealer, below each dealer's
    own stored overrides (see `dealerflow.complaints.dealer_configuration`)."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_COMPLAINTS_", extra="ignore")

    service_name: str = "complaints"
    http_port: int = 8004
    #: Handler of complaints opened without one (automatic ones included); "{dealer_id}" is
    #: replaced by the dealer's code.
    default_handler: str = "customer-relations:{dealer_id}"
    #: How long (service clock) an automatic complaint waits for the customer's contact
    #: snapshot to arrive from another topic before its trigger is dead-lettered.
    contact_wait: timedelta = timedelta(minutes=30)

    def handler_for(self, dealer_id: str) -> str:
        """The default handler staff id of ``dealer_id``."""
        return self.default_handler.replace("{dealer_id}", dealer_id)
