"""Delivery receipts through the whole notifier on real Kafka and PostgreSQL: messages go
out through a driver that answers with a provider id, then the providers' pushes reach
the real public routes (no token of ours) as each provider sends them: Twilio's signed
StatusCallback form, Aliyun's SmsReport and Tencent's callback arrays behind the secret
path token, WeChat's signed TEMPLATESENDJOBFINISH XML. A delivered receipt records
delivered_at and publishes nothing; a failed one turns the sent message (and its
reminder) failed and publishes NotificationFailed once (final, the provider's code, no
phone number); repeated receipts and unknown ids change nothing and are answered as the
provider expects (counted in dealerflow_notifier_receipts)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.channels import OutboundMessage, SendResult, register_driver
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.domain_receipts import twilio_signature
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
BASE_URL = "https://care.example.cn"
PATH_TOKEN = "receipts-path-token-0123456789"
TWILIO_TOKEN = "twilio-auth-token"
WECHAT_TOKEN = "wechat-server-token"
PHONE = "+8613700001111"
CONTACT = ContactSnapshot.model_validate(
    {
        "name": "Zhao Lei",
        "phone": PHONE,
        "wechat_openid": "oia2TjuEGTNoeX76QEjQNrcURxG8",
        "preferred_channel": "sms",
        "consent": {"service": True, "marketing": False, "opted_out_channels": []},
        "locale": "en",
    }
)


class ProviderSms:
    """A provider that accepts every message and returns an id of its own."""

    name = "receipt-test"

    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(ok=True, provider_message_id=f"P{message.id.hex[:20]}")


register_driver("receipt-test", ProviderSms)


@pytest.fixture
async def notifier(start_notifier: Any) -> AsyncIterator[Any]:
    drivers = {c: "receipt-test" for c in ("sms", "wechat", "email", "webhook")}
    async with start_notifier(
        channel_drivers=drivers,
        receipt_path_token=PATH_TOKEN,
        twilio_auth_token=TWILIO_TOKEN,
        wechat_server_token=WECHAT_TOKEN,
        public_base_url=BASE_URL,
    ) as started:
        yield started


@pytest.fixture
async def provider(notifier: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A provider's HTTP client: no bearer token."""
    transport = httpx.ASGITransport(app=notifier.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        yield client


async def _sent(notifier: Any, db: Any, key: str, channel: str = "sms") -> dict[str, Any]:
    """Plan a service message ``key`` to a new customer; the notification once sent."""
    customer = uuid.uuid4()
    contact = ContactSnapshot.model_validate(
        {**CONTACT.model_dump(mode="json"), "preferred_channel": channel}
    )
    planned = PlannedReminder(
        key=key,
        kind=ReminderKind.THANK_YOU,
        dealer_id=DEALER,
        customer_id=customer,
        send_at=notifier.clock.now(),
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        assert await schedule_reminder(db.use_case(conn), planned, contact) is not None
    notifier.clock.advance(timedelta(seconds=1))

    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"] == key and n["status"] != "queued":
                return n
        return None

    sent: dict[str, Any] = await notifier.eventually(probe, f"{key} sent")
    assert (sent["status"], sent["channel"]) == ("sent", channel), sent
    assert sent["provider_message_id"]
    assert sent["delivered_at"] is None
    return sent


async def _now(notifier: Any, sent: dict[str, Any]) -> dict[str, Any]:
    [row] = [
        n
        for n in await notifier.notifications(customer_id=sent["customer_id"])
        if n["id"] == sent["id"]
    ]
    return row


async def _failures(notifier: Any, notification_id: str, within_s: float) -> list[Any]:
    return [
        r["event"]
        for r in await notifier.published("NotificationFailed", within_s=within_s)
        if r["event"].notification_id == notification_id
    ]


async def _failed_once(notifier: Any, sent: dict[str, Any], code: str) -> None:
    row = await _now(notifier, sent)
    assert row["status"] == "failed", row
    assert code in row["error"]
    assert "13700001111" not in row["error"]

    async def published() -> Any:
        return await _failures(notifier, sent["id"], 0.5) or None

    [event] = await notifier.eventually(published, f"NotificationFailed of {sent['id']}")
    assert (event.retryable, event.attempts, event.reminder_id) == (
        False,
        1,
        sent["reminder_id"],
    )
    assert code in event.error
    assert "13700001111" not in event.error
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": DEALER, "customer_id": sent["customer_id"]}
    )
    assert [r["status"] for r in response.json()["items"]] == ["failed"]


def _count(provider: str, result: str) -> float:
    labels = {"provider": provider, "result": result}
    return REGISTRY.get_sample_value("dealerflow_notifier_receipts_total", labels) or 0.0


def _twilio_headers(form: dict[str, str], path: str = "/v1/receipts/twilio") -> dict[str, str]:
    signature = twilio_signature(TWILIO_TOKEN, BASE_URL + path, form.items())
    return {"X-Twilio-Signature": signature}


async def test_twilio_status_callbacks(notifier: Any, db: Any, provider: Any) -> None:
    delivered = await _sent(notifier, db, "tw-delivered")
    undelivered = await _sent(notifier, db, "tw-undelivered")

    step = {"MessageSid": delivered["provider_message_id"], "MessageStatus": "sent"}
    ignored = _count("twilio", "ignored")
    answer = await provider.post("/v1/receipts/twilio", data=step, headers=_twilio_headers(step))
    assert answer.status_code == 204, answer.text
    assert _count("twilio", "ignored") == ignored + 1
    assert (await _now(notifier, delivered))["delivered_at"] is None  # a step, not an end

    final = {**step, "MessageStatus": "delivered", "AccountSid": "AC1", "To": PHONE}
    for _ in range(2):  # Twilio may call twice
        answer = await provider.post(
            "/v1/receipts/twilio", data=final, headers=_twilio_headers(final)
        )
        assert answer.status_code == 204, answer.text
    row = await _now(notifier, delivered)
    assert (row["status"], row["delivered_at"] is not None) == ("sent", True)

    forged = {"MessageSid": undelivered["provider_message_id"], "MessageStatus": "failed"}
    answer = await provider.post(
        "/v1/receipts/twilio", data=forged, headers={"X-Twilio-Signature": "AAAA"}
    )
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await _now(notifier, undelivered))["status"] == "sent"
    # signed for another URL (a query added): refused too
    with_query = await provider.post(
        "/v1/receipts/twilio?x=1", data=forged, headers=_twilio_headers(forged)
    )
    assert with_query.status_code == 403

    failed = {**forged, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    answer = await provider.post(
        "/v1/receipts/twilio", data=failed, headers=_twilio_headers(failed)
    )
    assert answer.status_code == 204, answer.text
    await _failed_once(notifier, undelivered, "30003")

    unknown = {"MessageSid": "SMnot-ours", "MessageStatus": "delivered"}
    before = _count("twilio", "unknown")
    answer = await provider.post(
        "/v1/receipts/twilio", data=unknown, headers=_twilio_headers(unknown)
    )
    assert answer.status_code == 204
    assert _count("twilio", "unknown") == before + 1
    # no NotificationFailed for the delivered one
    assert await _failures(notifier, delivered["id"], 0.5) == []


async def test_aliyun_and_tencent_reports(notifier: Any, db: Any, provider: Any) -> None:
    delivered = await _sent(notifier, db, "ali-delivered")
    undelivered = await _sent(notifier, db, "ali-undelivered")
    tencent_failed = await _sent(notifier, db, "tc-undelivered")
    tencent_ok = await _sent(notifier, db, "tc-delivered")

    report = [
        {
            "phone_number": PHONE[3:],
            "send_time": "2025-03-03 10:00:01",
            "report_time": "2025-03-03 10:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": delivered["provider_message_id"],
            "out_id": "",
        },
        {
            "phone_number": PHONE[3:],
            "success": False,
            "err_code": "MK:0001",
            "err_msg": "空号",
            "biz_id": undelivered["provider_message_id"],
        },
        {"phone_number": "13800000000", "success": True, "biz_id": "not-ours^0"},
    ]
    wrong = await provider.post("/v1/receipts/aliyun/not-the-token-0123456", json=report)
    assert wrong.status_code == 404, wrong.text
    assert (await _now(notifier, undelivered))["status"] == "sent"

    unknown = _count("aliyun", "unknown")
    for _ in range(2):  # Aliyun retries and does not promise to push once
        answer = await provider.post(f"/v1/receipts/aliyun/{PATH_TOKEN}", json=report)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"code": 0, "msg": "接收成功"}
    assert _count("aliyun", "unknown") == unknown + 2
    assert (await _now(notifier, delivered))["delivered_at"] is not None
    await _failed_once(notifier, undelivered, "MK:0001")

    unreadable = await provider.post(
        f"/v1/receipts/aliyun/{PATH_TOKEN}", content=b'{"biz_id": 5', headers=_JSON
    )
    assert unreadable.status_code == 400, unreadable.text
    assert PHONE[3:] not in unreadable.text

    callback = [
        {
            "user_receive_time": "2025-03-03 10:00:04",
            "nationcode": "86",
            "mobile": PHONE[3:],
            "report_status": "FAIL",
            "errmsg": "MN:0017",
            "description": "停机",
            "sid": tencent_failed["provider_message_id"],
        },
        {
            "user_receive_time": "2025-03-03 10:00:04",
            "nationcode": "86",
            "mobile": PHONE[3:],
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": tencent_ok["provider_message_id"],
        },
    ]
    wrong = await provider.post("/v1/receipts/tencent/not-the-token-0123456", json=callback)
    assert wrong.status_code == 404, wrong.text
    answer = await provider.post(f"/v1/receipts/tencent/{PATH_TOKEN}", json=callback)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    await _failed_once(notifier, tencent_failed, "MN:0017")
    assert (await _now(notifier, tencent_ok))["delivered_at"] is not None
    # a late failure report after the delivery changes nothing
    late = [{**callback[1], "report_status": "FAIL", "errmsg": "MN:0001"}]
    answer = await provider.post(f"/v1/receipts/tencent/{PATH_TOKEN}", json=late)
    assert answer.status_code == 200, answer.text
    assert (await _now(notifier, tencent_ok))["status"] == "sent"
    assert await _failures(notifier, tencent_ok["id"], 0.5) == []


_JSON = {"Content-Type": "application/json"}


def _wechat_query(token: str = WECHAT_TOKEN) -> dict[str, str]:
    timestamp, nonce = "1741000000", "n0nce"
    signature = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def _job_finished(msg_id: str, status: str) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<FromUserName><![CDATA[{CONTACT.wechat_openid}]]></FromUserName>"
        "<CreateTime>1741000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
        f"<MsgID>{msg_id}</MsgID><Status><![CDATA[{status}]]></Status></xml>"
    ).encode()


async def test_wechat_template_message_receipts(notifier: Any, db: Any, provider: Any) -> None:
    check = await provider.get("/v1/receipts/wechat", params={**_wechat_query(), "echostr": "e1"})
    assert (check.status_code, check.text) == (200, "e1")
    forged = await provider.get(
        "/v1/receipts/wechat", params={**_wechat_query("other"), "echostr": "e1"}
    )
    assert forged.status_code == 403, forged.text

    delivered = await _sent(notifier, db, "wx-delivered", channel="wechat")
    blocked = await _sent(notifier, db, "wx-blocked", channel="wechat")
    xml = {"Content-Type": "text/xml"}
    push = _job_finished(delivered["provider_message_id"], "success")
    answer = await provider.post(
        "/v1/receipts/wechat", params=_wechat_query(), content=push, headers=xml
    )
    assert (answer.status_code, answer.text) == (200, "success")
    assert (await _now(notifier, delivered))["delivered_at"] is not None

    push = _job_finished(blocked["provider_message_id"], "failed:user block")
    answer = await provider.post(
        "/v1/receipts/wechat", params=_wechat_query("other"), content=push, headers=xml
    )
    assert answer.status_code == 403
    assert (await _now(notifier, blocked))["status"] == "sent"
    answer = await provider.post(
        "/v1/receipts/wechat", params=_wechat_query(), content=push, headers=xml
    )
    assert (answer.status_code, answer.text) == (200, "success")
    await _failed_once(notifier, blocked, "failed:user block")
    row = await _now(notifier, blocked)
    assert CONTACT.wechat_openid not in row["error"]

    # any other push to the server URL: acknowledged, nothing recorded
    ignored = _count("wechat", "ignored")
    subscribe = (
        b"<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>"
    )
    answer = await provider.post(
        "/v1/receipts/wechat", params=_wechat_query(), content=subscribe, headers=xml
    )
    assert (answer.status_code, answer.text) == (200, "success")
    assert _count("wechat", "ignored") == ignored + 1

    # safe mode (only an encrypted body): not read, acknowledged, logged
    encrypted = (
        b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[x]]></Encrypt></xml>"
    )
    answer = await provider.post(
        "/v1/receipts/wechat", params=_wechat_query(), content=encrypted, headers=xml
    )
    assert (answer.status_code, answer.text) == (200, "success")
    assert _count("wechat", "ignored") == ignored + 2
