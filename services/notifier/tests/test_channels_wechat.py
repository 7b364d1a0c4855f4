"""The ``wechat`` driver against a local official-account API that checks each request as
WeChat does: the stable-token call's credentials, the ``access_token`` query parameter of
every send (a token it issued and that has not expired), the JSON shape of the template
message, that ``touser`` follows the account, the template id and the 20-character fields."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ContactChannel
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.local_http import JsonHandler, serving
from dealerflow.notifier.channels import ChannelRegistry, OutboundMessage, SendResult
from dealerflow.notifier.channels_wechat import (
    WechatTemplateMessages,
    field_value,
    mask_access_token,
)
from dealerflow.notifier.settings import NotifierSettings

APP_ID, APP_SECRET = "wx5f3a1c2b9d8e7f60", "0123456789abcdef0123456789abcdef"
FOLLOWER = "oN0Eg6H9w0nB1C0Xc1fVK52lMW8Q"
DEALER = "D001"  # the notifier test dealer (conftest)
TEMPLATES = {"maintenance_due": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY", "*": "TPL_ANY"}

MESSAGE = OutboundMessage(
    id=uuid.UUID(int=21),
    dealer_id="D1",
    customer_id=uuid.UUID(int=1),
    audience="customer",
    channel="wechat",
    recipient=FOLLOWER,
    kind="maintenance_due",
    subject="保养提醒",
    body="张伟先生您好，您的爱车将于3月10日到期保养，\n请提前预约，浦东汽车竭诚为您服务。",
    locale="zh-CN",
)


@dataclass
class Account:
    """The official account's side of the API (what WeChat knows and what it was asked)."""

    url: str = ""
    token_lifetime_s: int = 7200
    tokens: dict[str, float] = field(default_factory=dict)  # issued token -> expiry
    token_calls: int = 0
    sends: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (token, JSON)
    raw_sends: list[bytes] = field(default_factory=list)
    expire_next_send: bool = False  # the token in use expires before the next send
    answer_next: dict[str, Any] | None = None  # a canned answer to the next valid send
    refuse_every_token: bool = False
    token_delay_s: float = 0.0
    followers: set[str] = field(default_factory=lambda: {FOLLOWER})
    template_ids: set[str] = field(default_factory=lambda: set(TEMPLATES.values()))

    def stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        self.token_calls += 1
        time.sleep(self.token_delay_s)
        if body.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if body.get("appid") != APP_ID:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("secret") != APP_SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        assert "force_refresh" not in body or body["force_refresh"] is False
        now = time.time()
        live = [t for t, until in self.tokens.items() if until > now]
        if live:  # the normal mode: the token still valid is handed out again
            return {"access_token": live[-1], "expires_in": int(self.tokens[live[-1]] - now)}
        token = f"ACCESS_TOKEN_{len(self.tokens) + 1}_{uuid.uuid4().hex}"
        self.tokens[token] = now + self.token_lifetime_s
        return {"access_token": token, "expires_in": self.token_lifetime_s}

    def template_send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if token not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if self.expire_next_send:
            self.expire_next_send = False
            self.tokens[token] = 0.0
        if self.refuse_every_token or self.tokens[token] <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        self.sends.append((token, body))
        touser, template_id, data = body.get("touser"), body.get("template_id"), body.get("data")
        if not isinstance(touser, str) or not touser.startswith("o") or len(touser) != 28:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        if template_id not in self.template_ids:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        if not isinstance(data, dict) or not data:
            return {"errcode": 47003, "errmsg": "argument invalid! data is empty"}
        for key, entry in data.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str) or len(value) > 20 or "\n" in value:
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
        if "url" in body and not str(body["url"]).startswith(("http://", "https://")):
            return {"errcode": 40066, "errmsg": "invalid url"}
        if touser not in self.followers:
            return {"errcode": 43004, "errmsg": "require subscribe"}
        if self.answer_next is not None:
            answer, self.answer_next = self.answer_next, None
            return answer
        return {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(self.sends)}


@pytest.fixture
def account() -> Iterator[Account]:
    state = Account()
    lock = threading.Lock()

    class WeChatApi(JsonHandler):
        def do_POST(self) -> None:
            target = urlsplit(self.path)
            raw = self.body()
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                self.answer(200, {"errcode": 47001, "errmsg": "data format error"})
                return
            body = json.loads(raw)
            if target.path == "/cgi-bin/stable_token":
                with lock:
                    self.answer(200, state.stable_token(body))
            elif target.path == "/cgi-bin/message/template/send":
                token = parse_qs(target.query).get("access_token", [""])[0]
                with lock:
                    state.raw_sends.append(raw)
                    self.answer(200, state.template_send(token, body))
            else:
                self.answer(404, {"errcode": 404, "errmsg": "not found"})

        def answer(self, status: int, answer: dict[str, Any]) -> None:
            self.reply(
                status, answer, content_type="application/json; encoding=utf-8", ensure_ascii=False
            )

    with serving(WeChatApi) as url:
        state.url = url
        yield state


def wechat(account: Account, **overrides: Any) -> WechatTemplateMessages:
    settings: dict[str, Any] = {
        "channel_drivers": {"wechat": "wechat"},
        "wechat_app_id": APP_ID,
        "wechat_app_secret": APP_SECRET,
        "wechat_templates": TEMPLATES,
        "wechat_endpoint": account.url,
    } | overrides
    driver = ChannelRegistry.from_settings(NotifierSettings(**settings)).for_customer("wechat")
    assert isinstance(driver, WechatTemplateMessages)
    return driver


def test_field_values_are_one_line_of_at_most_20_characters() -> None:
    assert field_value("保养提醒") == "保养提醒"
    assert field_value(" a\n b\t c ") == "a b c"
    clipped = field_value(MESSAGE.body)
    assert len(clipped) == 20
    assert clipped.endswith("…")
    assert clipped.startswith("张伟先生您好")


async def test_wechat_sends_a_template_message_the_account_accepts(account: Account) -> None:
    driver = wechat(account)
    first = await driver.send(MESSAGE)
    assert first == SendResult(ok=True, provider_message_id="200228333")
    other = replace(MESSAGE, id=uuid.UUID(int=22), kind="insurance_renewal")
    assert (await driver.send(other)).ok
    assert account.token_calls == 1  # the token is kept between sends
    (token, body), (_, second) = account.sends
    assert token in account.tokens
    assert body == {
        "touser": FOLLOWER,
        "template_id": TEMPLATES["maintenance_due"],  # the kind's template
        "client_msg_id": str(MESSAGE.id),
        "data": {
            "thing1": {"value": "保养提醒"},
            "thing2": {"value": field_value(MESSAGE.body)},
        },
    }
    assert "保养提醒".encode() in account.raw_sends[0]  # UTF-8, not \u escapes
    assert second["template_id"] == "TPL_ANY"  # the fallback
    assert second["client_msg_id"] == str(other.id)


async def test_the_access_token_stays_out_of_the_logs(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    assert mask_access_token("POST /send?access_token=AbC-1_x&b=2") == (
        "POST /send?access_token=***&b=2"
    )
    driver = wechat(account)
    with caplog.at_level(logging.INFO, logger="httpx"):
        assert (await driver.send(MESSAGE)).ok
    [(token, _)] = account.sends
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("access_token=***" in line for line in lines), lines
    assert token not in caplog.text


async def test_an_expired_token_is_fetched_again_once_and_the_send_retried(
    account: Account,
) -> None:
    driver = wechat(account)
    assert (await driver.send(MESSAGE)).ok
    account.expire_next_send = True  # WeChat says 42001 to the token the driver keeps
    result = await driver.send(replace(MESSAGE, id=uuid.UUID(int=23)))
    assert result.ok
    assert account.token_calls == 2
    assert len(account.tokens) == 2  # a new token...
    assert account.sends[-1][0] != account.sends[0][0]  # ...used for the resend


async def test_a_token_refused_again_after_the_refresh_is_retryable(account: Account) -> None:
    driver = wechat(account)
    account.refuse_every_token = True
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, True)
    assert "42001" in (result.error or "")
    assert account.token_calls == 2  # one refresh, not a loop


async def test_the_token_is_fetched_again_when_its_time_is_up(account: Account) -> None:
    now = [1000.0]
    settings = NotifierSettings(
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_templates=TEMPLATES,
        wechat_endpoint=account.url,
    )
    driver = WechatTemplateMessages(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        templates=settings.wechat_templates,
        endpoint=account.url,
        token_margin_s=settings.wechat_token_margin_s,
        clock=lambda: now[0],
    )
    assert (await driver.send(MESSAGE)).ok
    now[0] += 7200 - 300 - 1  # within expires_in minus the margin: kept
    assert (await driver.send(MESSAGE)).ok
    assert account.token_calls == 1
    now[0] += 2  # past it: asked again (before WeChat refuses it)
    assert (await driver.send(MESSAGE)).ok
    assert account.token_calls == 2


async def test_concurrent_sends_share_one_token_fetch(account: Account) -> None:
    driver = wechat(account)
    account.token_delay_s = 0.2
    messages = [replace(MESSAGE, id=uuid.UUID(int=100 + i)) for i in range(8)]
    results = await asyncio.gather(*(driver.send(m) for m in messages))
    assert all(r.ok for r in results)
    assert account.token_calls == 1
    assert len({token for token, _ in account.sends}) == 1


async def test_the_message_link_is_the_template_url(account: Account) -> None:
    driver = wechat(account)
    survey = {"survey_url": "https://dealer.example.cn/s/abc.def"}
    assert (await driver.send(replace(MESSAGE, metadata=survey))).ok
    unsubscribe = {"unsubscribe_url": "https://dealer.example.cn/v1/unsubscribe/t0k"}
    assert (await driver.send(replace(MESSAGE, metadata=unsubscribe))).ok
    assert [body.get("url") for _, body in account.sends] == [
        survey["survey_url"],
        unsubscribe["unsubscribe_url"],
    ]


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ({"errcode": -1, "errmsg": "system error"}, True),
        ({"errcode": 45009, "errmsg": "reach max api daily quota limit"}, True),
        ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, True),
        ({"errcode": 40037, "errmsg": "invalid template_id"}, False),
        ({"errcode": 47003, "errmsg": "argument invalid!"}, False),
        ({"errcode": 48001, "errmsg": "api unauthorized"}, False),
    ],
)
async def test_wechat_errors_are_classified(
    account: Account, answer: dict[str, Any], retryable: bool
) -> None:
    driver = wechat(account)
    account.answer_next = answer
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)
    assert f"errcode {answer['errcode']}" in (result.error or "")


async def test_a_customer_not_following_or_a_bad_openid_is_final(account: Account) -> None:
    driver = wechat(account)
    stranger = replace(MESSAGE, recipient="oN0Eg6H9w0nB1C0Xc1fVK52lMW8Z")
    result = await driver.send(stranger)
    assert (result.ok, result.retryable) == (False, False)
    assert "errcode 43004: the customer does not follow" in (result.error or "")
    result = await driver.send(replace(MESSAGE, recipient="not-an-openid"))
    assert (result.ok, result.retryable) == (False, False)
    assert "40003" in (result.error or "")


async def test_no_openid_or_no_template_is_final_without_calling(account: Account) -> None:
    driver = wechat(account, wechat_templates={"maintenance_due": TEMPLATES["maintenance_due"]})
    result = await driver.send(replace(MESSAGE, recipient=""))
    assert result == SendResult(ok=False, error="no WeChat openid", retryable=False)
    result = await driver.send(replace(MESSAGE, kind="greeting"))
    assert (result.ok, result.retryable) == (False, False)
    assert "no template for 'greeting'" in (result.error or "")
    assert (account.token_calls, account.sends) == (0, [])


async def test_wrong_credentials_are_final(account: Account) -> None:
    result = await wechat(account, wechat_app_secret="wrong").send(MESSAGE)
    assert (result.ok, result.retryable) == (False, False)
    assert "40125" in (result.error or "")
    assert account.sends == []


async def test_no_wechat_answering_is_retryable() -> None:
    driver = WechatTemplateMessages(
        app_id=APP_ID, app_secret=APP_SECRET, templates=TEMPLATES, endpoint="http://127.0.0.1:9"
    )
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, True)


def test_the_driver_needs_the_account_credentials() -> None:
    with pytest.raises(ValueError, match="WECHAT_APP_ID"):
        ChannelRegistry.from_settings(NotifierSettings(channel_drivers={"wechat": "wechat"}))
    with pytest.raises(ValueError, match="subject"):  # the fields carry subject or body
        NotifierSettings(wechat_template_fields={"thing1": "phone"})


@pytest.mark.integration
async def test_a_delivery_survey_goes_out_as_a_wechat_template_message(
    start_notifier: Any, account: Account
) -> None:
    """The whole notifier on Kafka and PostgreSQL: a customer bound to the official account
    gets the delivery's survey on WeChat, its link as the template's url; the provider's
    msgid is the NotificationSent's provider id."""
    templates = {"satisfaction_survey": "TPL_SURVEY", "*": "TPL_ANY"}
    account.template_ids.add("TPL_SURVEY")
    drivers = {"sms": "recording", "email": "recording", "webhook": "recording"}
    async with start_notifier(
        channel_drivers=drivers | {"wechat": "wechat"},
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_templates=templates,
        wechat_endpoint=account.url,
        survey_link_secret="wechat-survey-secret",
        public_base_url="https://cx.example.com",
    ) as notifier:
        event = example_for(VehicleDelivered)
        contact = ContactSnapshot(
            name="张伟",
            phone="+8613800138000",
            wechat_openid=FOLLOWER,
            preferred_channel=ContactChannel.WECHAT,
            consent=event.contact.consent,
            locale=event.contact.locale,
        )
        delivery_id = f"DL-W{uuid.uuid4().hex[:6]}"
        at = notifier.clock.now()
        await notifier.produce(
            event.model_copy(
                update={
                    "dealer_id": DEALER,
                    "customer_id": uuid.uuid4(),
                    "delivery_id": delivery_id,
                    "contact": contact,
                    "occurred_at": at,
                    "delivered_at": at,
                }
            )
        )

        async def planned() -> str | None:
            response = await notifier.client.get("/v1/reminders", params={"dealer_id": DEALER})
            for item in response.json()["items"]:
                if item["business_key"] == f"delivery:{delivery_id}:survey":
                    return str(item["params"]["survey_url"])
            return None

        survey_url = await notifier.eventually(planned, "the survey reminder")
        notifier.clock.advance(timedelta(days=7, hours=1))

        async def sent() -> dict[str, Any] | None:
            for n in await notifier.notifications():
                if n["kind"] == "satisfaction_survey" and n["status"] != "queued":
                    return n
            return None

        message = await notifier.eventually(sent, "the survey message")
        assert (message["status"], message["channel"]) == ("sent", "wechat"), message
        [(_, body)] = [b for b in account.sends if b[1]["template_id"] == "TPL_SURVEY"]
        assert body["touser"] == FOLLOWER
        assert body["url"] == survey_url
        assert all(len(entry["value"]) <= 20 for entry in body["data"].values())
        [published] = [
            e["event"]
            for e in await notifier.published("NotificationSent")
            if e["event"].kind == "satisfaction_survey"
        ]
        assert published.channel == "wechat"
        assert published.provider_message_id == message["provider_message_id"]
        assert published.provider_message_id.isdigit()
