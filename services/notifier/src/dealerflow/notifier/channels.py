"""Delivery of messages to customers and staff.

A :class:`Channel` sends one :class:`OutboundMessage` and says how it went; it does no
database work (the use cases record every message in ``notifications`` and publish the
events). Channels run inside the timer poller's transaction, which may be retried, so a
message can be handed over more than once: ``OutboundMessage.id`` is stable across
retries of one attempt and drivers pass it on as an idempotency key.

Drivers are chosen per message channel by settings (``channel_drivers``,
``staff_channel_driver``, both unset by default: a message on a channel without a driver
fails, final, "no driver configured for channel X", and start-up logs one warning listing
those channels) from a registry: ``recording`` (development only, set explicitly: logs the
message, the notifications row is the record), ``webhook`` (POSTs JSON to ``webhook_url``) and
``smtp`` (e-mail, `dealerflow.notifier.channels_smtp`), ``aliyun``, ``tencent`` and
``twilio`` (SMS, `dealerflow.notifier.channels_sms`), ``wechat`` (official-account
template messages, `dealerflow.notifier.channels_wechat`). Other gateways plug in with
:func:`register_driver`.

The registry also builds a :class:`WebhookChannel` for a URL the dealer configured
(``ChannelRegistry.webhook_to``: the OEM/region's ``people.oem_region.webhook_url``),
signed and timed out like the ``webhook`` driver; it POSTs a document of the caller's
(:meth:`WebhookChannel.post`) instead of a whole message. Webhooks are signed per the
Standard Webhooks scheme (`dealerflow.runtime.webhooks`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal, Protocol, runtime_checkable

import httpx

from dealerflow.contracts.enums import MessageChannel
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.telemetry import current_trace_headers
from dealerflow.runtime.webhooks import secret_key, signed_headers

__all__ = [
    "STAFF_CHANNEL",
    "Channel",
    "ChannelRegistry",
    "OutboundMessage",
    "RecordingChannel",
    "SendResult",
    "UnconfiguredChannel",
    "WebhookChannel",
    "no_driver_error",
    "post_safely",
    "register_driver",
    "retryable_status",
    "send_safely",
]

log = logging.getLogger("dealerflow.notifier.channels")

STAFF_CHANNEL = "staff"  # OutboundMessage.channel of messages to staff


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient (a customer address or a staff id)."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    audience: Literal["customer", "staff"]
    channel: str  # MessageChannel value, or "staff"
    recipient: str
    kind: str
    subject: str
    body: str
    locale: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    """How a send went; ``retryable`` failures are tried again later."""

    ok: bool
    provider_message_id: str | None = None
    error: str | None = None
    retryable: bool = False


@runtime_checkable
class Channel(Protocol):
    """Something that delivers messages (SMS gateway, WeChat, e-mail, webhook, ...)."""

    name: str

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver ``message``; never raise for delivery problems, return a failure."""
        ...


class RecordingChannel:
    """Development (set explicitly as a driver): logs the message (phone numbers masked
    by the log formatter) and accepts it; the notifications row written by the caller is
    the record."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        del self.sent[:-1000]  # a bounded memory of what went out (tests, debugging)
        log.info(
            "message to %s via %s: %s",
            message.recipient,
            message.channel,
            message.subject,
            extra={
                "notification_id": str(message.id),
                "dealer_id": message.dealer_id,
                "audience": message.audience,
                "kind": message.kind,
            },
        )
        return SendResult(ok=True, provider_message_id=f"recorded:{message.id}")


class WebhookChannel:
    """POSTs each message as JSON to one URL (a dealer's SMS/WeChat bridge, a staff chat).

    Headers: ``Idempotency-Key`` and ``webhook-id`` (the message id, the same on every
    retry), ``webhook-timestamp`` (the attempt's epoch seconds), with a ``whsec_`` secret
    ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` (Standard
    Webhooks), and ``traceparent`` of the active span. 2xx = sent (a JSON ``{"id": ...}``
    answer becomes the provider message id); 408, 429, 5xx and transport errors are
    retryable; other statuses (the receiver refuses the request) are final failures.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        secret: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._key = secret_key(secret) if secret else None
        self._transport = transport
        self._clock = clock

    async def send(self, message: OutboundMessage) -> SendResult:
        payload = asdict(message)
        payload["id"] = str(message.id)
        payload["customer_id"] = str(message.customer_id)
        return await self.post(payload, idempotency_key=str(message.id))

    async def post(self, document: Mapping[str, Any], *, idempotency_key: str) -> SendResult:
        """POST ``document`` (JSON-serialisable) with the headers and answer handling of
        :meth:`send`; ``idempotency_key`` must be the same on every retry of one delivery."""
        body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
        timestamp = int(self._clock())
        headers = {
            "content-type": "application/json",
            "idempotency-key": idempotency_key,
            "webhook-id": idempotency_key,
            "webhook-timestamp": str(timestamp),
        }
        if self._key is not None:
            headers |= signed_headers(self._key, idempotency_key, timestamp, body)
        traceparent, tracestate = current_trace_headers()
        if traceparent:
            headers["traceparent"] = traceparent
            if tracestate:
                headers["tracestate"] = tracestate
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout_s, transport=self._transport
            ) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        if response.is_success:
            provider_id: str | None = None
            try:
                answer = response.json()
                if isinstance(answer, dict) and answer.get("id") is not None:
                    provider_id = str(answer["id"])[:200]
            except ValueError:
                pass
            return SendResult(ok=True, provider_message_id=provider_id)
        return SendResult(
            ok=False,
            error=f"webhook answered {response.status_code}: {response.text[:500]}",
            retryable=retryable_status(response.status_code),
        )


class UnconfiguredChannel:
    """A channel no driver is configured for: every message fails, final."""

    name = "unconfigured"

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(ok=False, error=no_driver_error(self.channel), retryable=False)


def no_driver_error(channel: str) -> str:
    """The failure of a message on ``channel`` when no driver is configured for it."""
    return f"no driver configured for channel {channel}"


def retryable_status(status_code: int) -> bool:
    """Whether an HTTP failure answer is worth trying again: 408 (timeout), 429 (too many
    requests) and 5xx; any other 4xx/3xx is the receiver refusing this request (final)."""
    return status_code in (408, 429) or status_code >= 500


async def send_safely(channel: Channel, message: OutboundMessage) -> SendResult:
    """``channel.send(message)``, with a driver that raises turned into a retryable failure
    (a driver bug must not fail the timer batch the message is sent from)."""
    return await _safely(channel.send(message), channel.name, str(message.id))


async def post_safely(
    webhook: WebhookChannel, document: Mapping[str, Any], *, idempotency_key: str
) -> SendResult:
    """``webhook.post(...)`` with the guard of :func:`send_safely` (e.g. a URL httpx
    refuses raises ``httpx.InvalidURL``, which is not an ``httpx.HTTPError``)."""
    sending = webhook.post(document, idempotency_key=idempotency_key)
    return await _safely(sending, webhook.name, idempotency_key)


async def _safely(sending: Awaitable[SendResult], driver: str, what: str) -> SendResult:
    try:
        return await sending
    except Exception as exc:
        log.exception("channel driver %s raised for %s", driver, what)
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)


DriverFactory = Callable[[NotifierSettings], Channel]


def _recording(settings: NotifierSettings) -> Channel:
    return RecordingChannel()


def _webhook_to(settings: NotifierSettings) -> Callable[[str], WebhookChannel]:
    """A webhook channel for any URL, signed and timed out per the settings."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return partial(WebhookChannel, timeout_s=settings.webhook_timeout_s, secret=secret)


def _webhook(settings: NotifierSettings) -> Channel:
    if not settings.webhook_url:
        raise ValueError("the webhook channel driver needs DEALERFLOW_NOTIFIER_WEBHOOK_URL")
    return _webhook_to(settings)(settings.webhook_url)


def _smtp(settings: NotifierSettings) -> Channel:
    from dealerflow.notifier.channels_smtp import smtp_driver  # it imports this module

    return smtp_driver(settings)


def _aliyun(settings: NotifierSettings) -> Channel:
    from dealerflow.notifier.channels_sms import aliyun_driver  # it imports this module

    return aliyun_driver(settings)


def _tencent(settings: NotifierSettings) -> Channel:
    from dealerflow.notifier.channels_sms import tencent_driver  # it imports this module

    return tencent_driver(settings)


def _twilio(settings: NotifierSettings) -> Channel:
    from dealerflow.notifier.channels_sms import twilio_driver  # it imports this module

    return twilio_driver(settings)


def _wechat(settings: NotifierSettings) -> Channel:
    from dealerflow.notifier.channels_wechat import wechat_driver  # it imports this module

    return wechat_driver(settings)


_DRIVERS: dict[str, DriverFactory] = {
    "recording": _recording,
    "webhook": _webhook,
    "smtp": _smtp,
    "aliyun": _aliyun,
    "tencent": _tencent,
    "twilio": _twilio,
    "wechat": _wechat,
}


def register_driver(name: str, factory: DriverFactory) -> None:
    """Make a channel driver available to the ``channel_drivers`` settings."""
    _DRIVERS[name] = factory


class ChannelRegistry:
    """The channel for each customer message channel, the staff channel, and webhooks to
    URLs dealers configure (``webhook_to``; default: unsigned, 5 s timeout)."""

    def __init__(
        self,
        customer: Mapping[str, Channel],
        staff: Channel | None,
        webhook_to: Callable[[str], WebhookChannel] = WebhookChannel,
    ) -> None:
        self._customer = dict(customer)
        self.staff: Channel = staff if staff is not None else UnconfiguredChannel(STAFF_CHANNEL)
        self.webhook_to = webhook_to

    def for_customer(self, channel: str) -> Channel | None:
        """The channel delivering customer messages of ``channel`` (None: not configured)."""
        return self._customer.get(channel)

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> ChannelRegistry:
        """One driver instance per driver name, shared by the channels that use it."""
        instances: dict[str, Channel] = {}

        def driver(name: str) -> Channel:
            if name not in _DRIVERS:
                raise ValueError(f"unknown channel driver {name!r}; known: {sorted(_DRIVERS)}")
            if name not in instances:
                instances[name] = _DRIVERS[name](settings)
            return instances[name]

        names = dict(settings.channel_drivers)
        if settings.sms_driver:
            names["sms"] = settings.sms_driver
        customer = {channel: driver(name) for channel, name in names.items()}
        staff = driver(settings.staff_channel_driver) if settings.staff_channel_driver else None
        unconfigured = [c.value for c in MessageChannel if c.value not in customer]
        if staff is None:
            unconfigured.append(STAFF_CHANNEL)
        if unconfigured:
            # once at start-up: their messages fail ("no driver configured for channel X")
            log.warning(
                "no driver configured for channels %s: their messages fail "
                "(DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS, ..._STAFF_CHANNEL_DRIVER)",
                unconfigured,
            )
        recorded = sorted(channel for channel, name in names.items() if name == "recording")
        if settings.staff_channel_driver == "recording":
            recorded.append(STAFF_CHANNEL)
        if recorded:
            # development: say so once at start-up, a production notifier sets real drivers
            log.warning("channels %s only recorded (driver 'recording')", recorded)
        return cls(customer, staff, _webhook_to(settings))
