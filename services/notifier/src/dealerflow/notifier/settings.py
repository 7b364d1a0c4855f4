"""Configuration of the notifier (environment variables ``DEALERFLOW_NOTIFIER_*``, falling
back to the shared ``DEALERFLOW_*`` ones; see dealerflow.runtime.settings)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from dealerflow.policy import policy_with_overrides
from dealerflow.runtime.settings import ServiceSettings

__all__ = ["NotifierSettings"]


def _default_drivers() -> dict[str, str]:
    return {"sms": "recording", "wechat": "recording", "email": "recording", "webhook": "recording"}


class NotifierSettings(ServiceSettings):
    """Settings of the notifier service."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8005
    #: Channel driver per customer message channel (sms, wechat, email, webhook); drivers
    #: are registered in dealerflow.notifier.channels ("recording", "webhook", ...).
    channel_drivers: dict[str, str] = Field(default_factory=_default_drivers)
    #: Driver delivering alerts to staff (warnings, escalations).
    staff_channel_driver: str = "recording"
    webhook_url: str | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    #: Shared secret: the webhook driver signs bodies with HMAC-SHA256 when set.
    webhook_secret: SecretStr | None = None
    #: Assignee of a task for a role when no person is named, e.g. "sales-manager:D001".
    role_assignee_format: str = "{role}:{dealer_id}"
    #: Names used in customer messages per dealer id (default: the dealer id).
    dealer_names: dict[str, str] = Field(default_factory=dict)
    message_max_attempts: int = Field(default=5, ge=1)
    message_retry_backoff_s: float = Field(default=300.0, gt=0)

    @field_validator("policy_overrides")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        # the service-wide layer under each dealer's stored overrides (see
        # dealer_configuration): fail at start-up, not on the first event
        policy_with_overrides(value)
        return value

    @field_validator("role_assignee_format")
    @classmethod
    def _valid_format(cls, value: str) -> str:
        value.format(role="r", dealer_id="d")
        return value

    def role_assignee(self, role: str, dealer_id: str) -> str:
        """Staff id standing for ``role`` at a dealer: sales_manager -> "sales-manager:D1"."""
        return self.role_assignee_format.format(role=role.replace("_", "-"), dealer_id=dealer_id)

    def dealer_name(self, dealer_id: str) -> str:
        """How customer messages name the dealer."""
        return self.dealer_names.get(dealer_id, dealer_id)
