"""Channel drivers and their registry (no network: httpx.MockTransport)."""

from __future__ import annotations

import hashlib
import hmac
import json
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
        "https://bridge.example/send", secret="s3cret", transport=httpx.MockTransport(answer)
    )
    result = await channel.send(MESSAGE)
    assert result == SendResult(ok=True, provider_message_id="gw-42")
    [request] = seen
    assert request.headers["Idempotency-Key"] == str(MESSAGE.id)
    expected = hmac.new(b"s3cret", request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Dealerflow-Signature"] == f"sha256={expected}"
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


def test_registry_from_settings() -> None:
    registry = ChannelRegistry.from_settings(NotifierSettings())
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


async def test_a_webhook_to_a_dealer_url_posts_the_document_signed_per_settings() -> None:
    registry = ChannelRegistry.from_settings(
        NotifierSettings(webhook_secret="s3cret", webhook_timeout_s=2.5)
    )
    webhook = registry.webhook_to("https://oem.example/hook")
    assert (webhook.url, webhook.timeout_s) == ("https://oem.example/hook", 2.5)

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    signed = WebhookChannel(webhook.url, secret="s3cret", transport=httpx.MockTransport(answer))
    result = await post_safely(signed, {"complaint_id": "C-1", "level": 3}, idempotency_key="k-1")
    assert result == SendResult(ok=True)  # a 2xx without an id: no provider message id
    [request] = seen
    assert json.loads(request.content) == {"complaint_id": "C-1", "level": 3}
    assert request.headers["Idempotency-Key"] == "k-1"
    expected = hmac.new(b"s3cret", request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Dealerflow-Signature"] == f"sha256={expected}"
    # the same settings sign the dealer's webhook like the driver does
    assert signed._secret == webhook._secret


async def test_post_safely_turns_a_url_httpx_refuses_into_a_retryable_failure() -> None:
    result = await post_safely(WebhookChannel("http://[bad"), {}, idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)
