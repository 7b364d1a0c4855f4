"""Configuration of the notifier (environment variables ``DEALERFLOW_NOTIFIER_*``, falling
back to the shared ``DEALERFLOW_*`` ones; see dealerflow.runtime.settings).

Nothing per dealer lives here: the dealer's name (profile), its channels, templates,
quiet hours, marketing cap and every timing (policy) and who gets each task (people)
come from the one dealer configuration (``uc.dealer(dealer_id)``); ``policy_overrides``
of the base settings only change the defaults every dealer starts from. Tasks for a role
nobody holds go to ``<role-with-dashes>:<dealer_id>`` (`dealerflow.notifier.domain_people`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from dealerflow.policy import policy_with_overrides
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.webhooks import secret_key

__all__ = ["NotifierSettings"]


def _default_drivers() -> dict[str, str]:
    return {"sms": "recording", "wechat": "recording", "email": "recording", "webhook": "recording"}


def _default_wechat_fields() -> dict[str, Literal["subject", "body"]]:
    return {"thing1": "subject", "thing2": "body"}


class NotifierSettings(ServiceSettings):
    """Settings of the notifier service."""

    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8005
    #: Channel driver per customer message channel (sms, wechat, email, webhook); drivers
    #: are registered in dealerflow.notifier.channels ("smtp", "aliyun", "webhook", ...;
    #: "recording" only logs: development). None by default: a message on a channel
    #: without a driver fails (final) and start-up warns about every such channel.
    channel_drivers: dict[str, str] = Field(default_factory=dict)
    #: Driver delivering alerts to staff (warnings, escalations); unset: they fail (final).
    staff_channel_driver: str | None = None
    #: URL of the ``webhook`` channel driver (the dealers' OEM/region webhooks are per
    #: dealer: ``people.oem_region.webhook_url``).
    webhook_url: str | None = None
    #: Timeout of every webhook POST (the driver's and the OEM/region webhooks).
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    #: Standard Webhooks signing secret ``whsec_<base64 of >= 24 bytes>``: webhook POSTs
    #: (the driver's and the OEM/region alerts) carry ``webhook-signature`` when set.
    webhook_secret: SecretStr | None = None
    #: Tries of a message (customer or staff) before it is recorded as failed; retries wait
    #: ``message_retry_backoff_s``, doubling each time.
    message_max_attempts: int = Field(default=5, ge=1)
    message_retry_backoff_s: float = Field(default=300.0, gt=0)
    #: The ``smtp`` e-mail driver (dealerflow.notifier.channels_smtp): server, sender,
    #: ``starttls`` (port 587) / ``tls`` (implicit, 465) / ``none`` (local relay only),
    #: AUTH when ``smtp_user`` is set.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    #: The SMS driver (dealerflow.notifier.channels_sms): ``aliyun``, ``tencent``,
    #: ``twilio`` or ``recording`` (development); unset: ``channel_drivers["sms"]``.
    sms_driver: str | None = None
    #: Provider template per message kind (``"*"``: any other kind) for the mainland
    #: providers, each with one variable carrying the rendered text.
    sms_templates: dict[str, str] = Field(default_factory=dict)
    #: Overrides the provider's API URL (a private gateway; tests).
    sms_endpoint: str | None = None
    sms_timeout_s: float = Field(default=10.0, gt=0)
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: SecretStr | None = None
    aliyun_sms_sign_name: str | None = None
    aliyun_region: str = "cn-hangzhou"
    tencent_secret_id: str | None = None
    tencent_secret_key: SecretStr | None = None
    tencent_sms_app_id: str | None = None
    tencent_sms_sign_name: str | None = None
    tencent_region: str = "ap-guangzhou"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    #: A sending number (E.164) or a Messaging Service SID (``MG...``).
    twilio_from: str | None = None
    #: The ``wechat`` driver (dealerflow.notifier.channels_wechat): the official account's
    #: AppID/AppSecret, template id per message kind (``"*"``: any other kind), the
    #: template's fields filled with the message's ``subject``/``body``, the API's URL
    #: (tests), the timeout and how long before expiry the access token is fetched again.
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_templates: dict[str, str] = Field(default_factory=dict)
    wechat_template_fields: dict[str, Literal["subject", "body"]] = Field(
        default_factory=_default_wechat_fields, min_length=1
    )
    wechat_endpoint: str | None = None
    wechat_timeout_s: float = Field(default=10.0, gt=0)
    wechat_token_margin_s: float = Field(default=300.0, ge=0)
    #: Key of the unsubscribe links every marketing message carries (HMAC-SHA256 of the
    #: dealer, customer and channel; no expiry, changing the key invalidates every link).
    #: Unset, marketing messages are not sent (NotificationFailed, final): a commercial
    #: message needs a way out.
    unsubscribe_secret: SecretStr | None = None

    @field_validator("webhook_secret")
    @classmethod
    def _valid_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret_key(value.get_secret_value())  # ValueError: fail at start-up
        return value

    #: Secret signing the satisfaction-survey links (HMAC-SHA256, `domain_surveys`); not
    #: set: no survey links are sent and the satisfaction callback task stays as before.
    survey_link_secret: SecretStr | None = None
    #: Public base URL of the notifier as the customer's phone reaches it: the links of
    #: unsubscribe (``<url>/v1/unsubscribe/<token>``) and survey pages (``<url>/s/<token>``).
    public_base_url: str = "http://localhost:8005"
    #: Delivery receipts (`api_receipts`): the secret last path segment of the URLs given
    #: to Aliyun and Tencent, whose pushes carry no signature
    #: (``<public_base_url>/v1/receipts/aliyun/<token>``, ``.../tencent/<token>``); unset,
    #: those routes answer 404. Twilio's callbacks are checked with ``twilio_auth_token``.
    receipt_path_token: SecretStr | None = Field(default=None, min_length=16)
    #: Ask Twilio for each message's status changes at
    #: ``<public_base_url>/v1/receipts/twilio`` (``StatusCallback``); off: only when the
    #: Messaging Service has a status callback URL configured.
    twilio_status_callback: bool = False
    #: The Token of the WeChat official account's server configuration (the pushes'
    #: ``signature``); unset, ``/v1/receipts/wechat`` answers 404.
    wechat_server_token: SecretStr | None = None

    @field_validator("policy_overrides")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        # the defaults every dealer's configuration starts from: fail at start-up, not on
        # the first event
        policy_with_overrides(value)
        return value
