"""Channel drivers and their registry (no network: httpx.MockTransport)."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from dealerflow.notifier.channels import (
    ChannelRegistry,
    OutboundMessage,
    RecordingChannel,
    SendResult,
    WebhookChannel,
    post_safely,
    register_driver,
    send_safely,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.webhooks import secret_key, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example secret
NOW = 1_765_000_000

MESSAGE = OutboundMessage(
    id=uuid.UUID(int=7),
    dealer_id="D1",
    customer_id=uuid.UUID(int=1),
    audience="customer",
    channel="sms",
    recipient="+8613800138000",
    kind="maintenance_due",
    subject="Maintenance due",
    body="Dear Zhang Wei, ...",
    locale="en",
)


async def test_recording_channel_accepts_and_remembers() -> None:
    channel = RecordingChannel()
    result = await channel.send(MESSAGE)
    assert result == SendResult(ok=True, provider_message_id=f"recorded:{MESSAGE.id}")
    assert channel.sent == [MESSAGE]


async def test_webhook_posts_signed_json_with_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"id": "gw-42"})

    channel = WebhookChannel(
        "https://bridge.example/send",
        secret=SECRET,
        transport=httpx.MockTransport(answer),
        clock=lambda: NOW + 0.7,
    )
    result = await channel.send(MESSAGE)
    assert result == SendResult(ok=True, provider_message_id="gw-42")
    [request] = seen
    assert request.headers["Idempotency-Key"] == str(MESSAGE.id)
    assert request.headers["webhook-timestamp"] == str(NOW)
    assert "x-dealerflow-signature" not in request.headers
    # the receiver checks it the Standard Webhooks way
    headers = dict(request.headers)
    assert verify(secret_key(SECRET), headers, request.content, now=NOW) == str(MESSAGE.id)
    body = json.loads(request.content)
    assert body["recipient"] == "+8613800138000"
    assert body["id"] == str(MESSAGE.id)


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (404, False), (408, True), (429, True), (503, True)]
)
async def test_webhook_failures(status: int, retryable: bool) -> None:
    channel = WebhookChannel(
        "https://bridge.example/send",
        transport=httpx.MockTransport(lambda r: httpx.Response(status, text="nope")),
    )
    result = await channel.send(MESSAGE)
    assert not result.ok
    assert result.retryable is retryable
    assert str(status) in (result.error or "")


async def test_webhook_transport_error_is_retryable() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    channel = WebhookChannel("https://bridge.example/send", transport=httpx.MockTransport(broken))
    result = await channel.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, True)


async def test_send_safely_turns_a_raising_driver_into_a_retryable_failure() -> None:
    class Broken:
        name = "broken"

        async def send(self, message: OutboundMessage) -> SendResult:
            raise KeyError("bug")

    result = await send_safely(Broken(), MESSAGE)
    assert (result.ok, result.retryable) == (False, True)
    assert "KeyError" in (result.error or "")


RECORDING = {c: "recording" for c in ("sms", "wechat", "email", "webhook")}


def test_registry_from_settings() -> None:
    registry = ChannelRegistry.from_settings(
        NotifierSettings(channel_drivers=RECORDING, staff_channel_driver="recording")
    )
    assert isinstance(registry.for_customer("sms"), RecordingChannel)
    assert registry.for_customer("sms") is registry.for_customer("email")  # one instance
    assert isinstance(registry.staff, RecordingChannel)
    assert registry.for_customer("fax") is None

    webhook = ChannelRegistry.from_settings(
        NotifierSettings(
            channel_drivers={"sms": "webhook"}, webhook_url="https://bridge.example/send"
        )
    )
    assert isinstance(webhook.for_customer("sms"), WebhookChannel)
    assert webhook.for_customer("email") is None

    with pytest.raises(ValueError, match="WEBHOOK_URL"):
        ChannelRegistry.from_settings(NotifierSettings(staff_channel_driver="webhook"))
    with pytest.raises(ValueError, match="unknown channel driver"):
        ChannelRegistry.from_settings(NotifierSettings(channel_drivers={"sms": "pigeon"}))


def test_custom_drivers_plug_in() -> None:
    class Sms:
        name = "acme-sms"

        def __init__(self, settings: NotifierSettings) -> None:
            self.settings = settings

        async def send(self, message: OutboundMessage) -> SendResult:
            return SendResult(ok=True)

    register_driver("acme-sms", Sms)
    registry = ChannelRegistry.from_settings(NotifierSettings(channel_drivers={"sms": "acme-sms"}))
    assert isinstance(registry.for_customer("sms"), Sms)


async def test_no_driver_by_default_fails_messages_and_warns_once_at_start_up(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS", "DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER"):
        monkeypatch.delenv(name, raising=False)  # e.g. a shell with the dev profile's env
    with caplog.at_level(logging.WARNING, logger="dealerflow.notifier.channels"):
        registry = ChannelRegistry.from_settings(NotifierSettings())
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "no driver configured for channels" in warning.getMessage()
    assert "['sms', 'wechat', 'email', 'webhook', 'staff']" in warning.getMessage()
    assert registry.for_customer("sms") is None  # send_reminder: failed, final
    result = await send_safely(registry.staff, MESSAGE)
    assert result == SendResult(
        ok=False, error="no driver configured for channel staff", retryable=False
    )

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dealerflow.notifier.channels"):
        ChannelRegistry.from_settings(
            NotifierSettings(
                channel_drivers={"email": "recording"}, staff_channel_driver="recording"
            )
        )
    unconfigured, recorded = (r.getMessage() for r in caplog.records)
    assert "['sms', 'wechat', 'webhook']" in unconfigured
    assert "['email', 'staff'] only recorded" in recorded


async def test_a_webhook_to_a_dealer_url_posts_the_document_signed_per_settings() -> None:
    registry = ChannelRegistry.from_settings(
        NotifierSettings(webhook_secret=SECRET, webhook_timeout_s=2.5)
    )
    webhook = registry.webhook_to("https://oem.example/hook")
    assert (webhook.url, webhook.timeout_s) == ("https://oem.example/hook", 2.5)

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    signed = WebhookChannel(webhook.url, secret=SECRET, transport=httpx.MockTransport(answer))
    result = await post_safely(signed, {"complaint_id": "C-1", "level": 3}, idempotency_key="k-1")
    assert result == SendResult(ok=True)  # a 2xx without an id: no provider message id
    [request] = seen
    assert json.loads(request.content) == {"complaint_id": "C-1", "level": 3}
    assert request.headers["Idempotency-Key"] == "k-1"
    assert request.headers["webhook-id"] == "k-1"
    now = int(request.headers["webhook-timestamp"])
    assert verify(secret_key(SECRET), dict(request.headers), request.content, now=now) == "k-1"
    # the same settings sign the dealer's webhook like the driver does
    assert signed._key == webhook._key == secret_key(SECRET)


def test_a_webhook_secret_not_in_the_standard_form_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        NotifierSettings(webhook_secret="s3cret")


async def test_an_unsigned_webhook_still_names_the_delivery_and_its_trace() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    channel = WebhookChannel("https://bridge.example/send", transport=httpx.MockTransport(answer))
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("send") as span:
        assert await channel.send(MESSAGE) == SendResult(ok=True)
    [request] = seen
    assert request.headers["webhook-id"] == str(MESSAGE.id)
    assert "webhook-signature" not in request.headers
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert request.headers["traceparent"].split("-")[1] == trace_id
    assert trace.get_current_span() is not span


async def test_post_safely_turns_a_url_httpx_refuses_into_a_retryable_failure() -> None:
    result = await post_safely(WebhookChannel("http://[bad"), {}, idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)


def test_the_dev_stack_environment_configures_every_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``make up``/``make demo`` and the e2e stack pass DEV_CHANNEL_ENV: recording drivers
    the settings parse, nothing left unconfigured."""
    from dealerflow.devinfra.services import DEV_CHANNEL_ENV

    for name, value in DEV_CHANNEL_ENV.items():
        monkeypatch.setenv(name, value)
    settings = NotifierSettings()
    assert settings.channel_drivers == RECORDING
    assert settings.staff_channel_driver == "recording"
