"""SMS drivers against local HTTP servers that answer like each provider and VERIFY the
request's signature the way the provider does (recomputed here from what arrived; the
server and the Aliyun check are shared with the end-to-end tests:
dealerflow.devinfra.sms_provider)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from dealerflow.devinfra.sms_provider import (
    ALIYUN_ID,
    ALIYUN_SECRET,
    Answer,
    Provider,
    Received,
    aliyun_check,
    serving_provider,
)
from dealerflow.notifier.channels import ChannelRegistry, OutboundMessage, SendResult
from dealerflow.notifier.channels_sms import AliyunSms, TencentSms, TwilioSms
from dealerflow.notifier.settings import NotifierSettings

MESSAGE = OutboundMessage(
    id=uuid.UUID(int=11),
    dealer_id="D1",
    customer_id=uuid.UUID(int=1),
    audience="customer",
    channel="sms",
    recipient="+8613800138000",
    kind="maintenance_due",
    subject="保养提醒",
    body="张伟先生，您的车辆将于3月10日到期保养，回T退订",
    locale="zh-CN",
)


@pytest.fixture
def provider() -> Iterator[Provider]:
    with serving_provider() as box:
        yield box


def driver_of(**settings: Any) -> Any:
    registry = ChannelRegistry.from_settings(NotifierSettings(**settings))
    return registry.for_customer("sms")


# --- Aliyun -----------------------------------------------------------------------------


def aliyun(provider: Provider, **overrides: Any) -> AliyunSms:
    provider.check = aliyun_check(set())
    settings: dict[str, Any] = {
        "sms_driver": "aliyun",
        "sms_endpoint": f"{provider.url}/",
        "sms_templates": {"*": "SMS_154950909"},
        "aliyun_access_key_id": ALIYUN_ID,
        "aliyun_access_key_secret": ALIYUN_SECRET,
        "aliyun_sms_sign_name": "浦东汽车",
    } | overrides
    driver = driver_of(**settings)
    assert isinstance(driver, AliyunSms)
    return driver


async def test_aliyun_sends_a_signed_request_the_provider_accepts(provider: Provider) -> None:
    driver = aliyun(provider, sms_templates={"maintenance_due": "SMS_1", "*": "SMS_2"})
    assert await driver.send(MESSAGE) == SendResult(
        ok=True, provider_message_id="9006197469364984^0"
    )
    assert await driver.send(MESSAGE) == SendResult(  # a fresh nonce each time
        ok=True, provider_message_id="9006197469364984^0"
    )
    form = dict(parse_qsl(provider.received[0].body.decode()))
    assert form["PhoneNumbers"] == MESSAGE.recipient
    assert form["SignName"] == "浦东汽车"
    assert form["TemplateCode"] == "SMS_1"  # the kind's template
    assert json.loads(form["TemplateParam"]) == {"content": MESSAGE.body}
    assert form["OutId"] == str(MESSAGE.id)


async def test_aliyun_refuses_a_wrong_secret_and_that_is_final(provider: Provider) -> None:
    result = await aliyun(provider, aliyun_access_key_secret="wrong").send(MESSAGE)
    assert (result.ok, result.retryable) == (False, False)
    assert "SignatureDoesNotMatch" in (result.error or "")


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发业务流控"}), True),
        ((200, {"Code": "isp.SYSTEM_ERROR", "Message": "系统错误"}), True),
        ((503, {"Code": "ServiceUnavailable", "Message": "busy"}), True),
        ((200, {"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "账户余额不足"}), False),
        ((200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}), False),
    ],
)
async def test_aliyun_errors_are_classified(
    provider: Provider, answer: Answer, retryable: bool
) -> None:
    driver = aliyun(provider)
    provider.answer_next = answer
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)
    assert str(answer[1]["Code"]) in (result.error or "")


async def test_aliyun_bad_number_and_missing_template_are_final(provider: Provider) -> None:
    driver = aliyun(provider)
    bad = OutboundMessage(**{**_fields(MESSAGE), "recipient": "not-a-number"})
    result = await driver.send(bad)
    assert (result.ok, result.retryable) == (False, False)
    assert "isv.MOBILE_NUMBER_ILLEGAL" in (result.error or "")
    no_template = await aliyun(provider, sms_templates={"other": "SMS_9"}).send(MESSAGE)
    assert (no_template.ok, no_template.retryable) == (False, False)
    assert "no SMS template" in (no_template.error or "")


async def test_no_provider_answering_is_retryable() -> None:
    driver = driver_of(
        sms_driver="aliyun",
        sms_endpoint="http://127.0.0.1:9/",
        sms_templates={"*": "SMS_1"},
        aliyun_access_key_id=ALIYUN_ID,
        aliyun_access_key_secret=ALIYUN_SECRET,
        aliyun_sms_sign_name="浦东汽车",
    )
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, True)


def test_a_driver_without_its_credentials_stops_the_start() -> None:
    with pytest.raises(ValueError, match="ALIYUN_ACCESS_KEY_ID"):
        driver_of(sms_driver="aliyun")


def _fields(message: OutboundMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in message.__dataclass_fields__}


# --- Tencent ----------------------------------------------------------------------------

TENCENT_ID, TENCENT_KEY = "AKIDExampleSecretId0123456789", "ExampleSecretKey0123456789abcd"


def tencent_check(request: Received) -> Answer:
    """Tencent Cloud's TC3-HMAC-SHA256 check, recomputed from the request as it arrived."""
    request_id = str(uuid.uuid4())

    def error(code: str, message: str) -> Answer:
        return 200, {
            "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
        }

    authorization = request.headers.get("authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    secret_id, date, service, terminator = parts["Credential"].split("/")
    if algorithm != "TC3-HMAC-SHA256" or terminator != "tc3_request":
        return error("AuthFailure.InvalidAuthorization", "bad Authorization")
    if secret_id != TENCENT_ID:
        return error("AuthFailure.SecretIdNotFound", "no such SecretId")
    timestamp = int(request.headers["x-tc-timestamp"])
    if abs(timestamp - time.time()) > 300:
        return error("AuthFailure.SignatureExpire", "expired")
    if datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") != date:
        return error("AuthFailure.SignatureFailure", "date of the scope")
    signed = parts["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{request.headers[h].strip().lower()}\n" for h in signed)
    canonical = "\n".join(
        [
            "POST",
            request.path,
            "",
            canonical_headers,
            parts["SignedHeaders"],
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + TENCENT_KEY).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(parts["Signature"], expected):
        return error(
            "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
        )
    assert (service, request.headers["x-tc-action"]) == ("sms", "SendSms")
    assert request.headers["x-tc-version"] == "2021-01-11"
    document = json.loads(request.body)
    [phone] = document["PhoneNumberSet"]
    if not phone.lstrip("+").isdigit():
        status = {
            "SerialNo": "",
            "PhoneNumber": phone,
            "Fee": 0,
            "Code": "InvalidParameterValue.IncorrectPhoneNumber",
            "Message": "incorrect number",
        }
    else:
        status = {
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": phone,
            "Fee": 1,
            "SessionContext": document.get("SessionContext", ""),
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }
    return 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}}


def tencent(provider: Provider, **overrides: Any) -> TencentSms:
    provider.check = tencent_check
    settings: dict[str, Any] = {
        "sms_driver": "tencent",
        "sms_endpoint": provider.url,
        "sms_templates": {"*": "1110"},
        "tencent_secret_id": TENCENT_ID,
        "tencent_secret_key": TENCENT_KEY,
        "tencent_sms_app_id": "1400006666",
        "tencent_sms_sign_name": "浦东汽车",
    } | overrides
    driver = driver_of(**settings)
    assert isinstance(driver, TencentSms)
    return driver


async def test_tencent_sends_a_tc3_signed_request_the_provider_accepts(provider: Provider) -> None:
    result = await tencent(provider).send(MESSAGE)
    assert result == SendResult(ok=True, provider_message_id="5000:1045710669157053657849499619")
    document = json.loads(provider.received[0].body)
    assert document == {
        "PhoneNumberSet": [MESSAGE.recipient],
        "SmsSdkAppId": "1400006666",
        "SignName": "浦东汽车",
        "TemplateId": "1110",
        "TemplateParamSet": [MESSAGE.body],
        "SessionContext": str(MESSAGE.id),
    }


async def test_tencent_refuses_a_wrong_key_and_that_is_final(provider: Provider) -> None:
    result = await tencent(provider, tencent_secret_key="wrong").send(MESSAGE)
    assert (result.ok, result.retryable) == (False, False)
    assert "AuthFailure.SignatureFailure" in (result.error or "")


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ((200, {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "t"}}}), True),
        ((200, {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "r"}}}), True),
        ((502, {}), True),
        (
            (
                200,
                {
                    "Response": {
                        "SendStatusSet": [
                            {"Code": "LimitExceeded.DeliveryFrequencyLimit", "Message": "f"}
                        ]
                    }
                },
            ),
            True,
        ),
        (
            (
                200,
                {
                    "Response": {
                        "SendStatusSet": [
                            {"Code": "FailedOperation.PhoneNumberInBlacklist", "Message": "b"}
                        ]
                    }
                },
            ),
            False,
        ),
        (
            (
                200,
                {
                    "Response": {
                        "Error": {
                            "Code": "FailedOperation.TemplateIncorrectOrUnapproved",
                            "Message": "t",
                        }
                    }
                },
            ),
            False,
        ),
    ],
)
async def test_tencent_errors_are_classified(
    provider: Provider, answer: Answer, retryable: bool
) -> None:
    driver = tencent(provider)
    provider.answer_next = answer
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)


async def test_tencent_bad_number_is_final(provider: Provider) -> None:
    bad = OutboundMessage(**{**_fields(MESSAGE), "recipient": "not-a-number"})
    result = await tencent(provider).send(bad)
    assert (result.ok, result.retryable) == (False, False)
    assert "IncorrectPhoneNumber" in (result.error or "")


# --- Twilio -----------------------------------------------------------------------------

TWILIO_SID, TWILIO_TOKEN = "AC0123456789abcdef0123456789abcdef", "example-auth-token"


def twilio_check(request: Received) -> Answer:
    """Twilio's check: HTTP basic auth AccountSid:AuthToken for the account in the path;
    its error document ({code, message, more_info, status}) otherwise."""

    def error(status: int, code: int, message: str) -> Answer:
        info = f"https://www.twilio.com/docs/errors/{code}"
        return status, {"code": code, "message": message, "more_info": info, "status": status}

    expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    if request.headers.get("authorization") != f"Basic {expected}":
        return error(401, 20003, "Authenticate")
    if request.path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
        return error(404, 20404, "The requested resource was not found")
    form = dict(parse_qsl(request.body.decode()))
    if not form.get("To", "").startswith("+"):
        return error(400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number.")
    sid = "SM" + uuid.uuid4().hex
    return 201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"]}


def twilio(provider: Provider, **overrides: Any) -> TwilioSms:
    provider.check = twilio_check
    settings: dict[str, Any] = {
        "sms_driver": "twilio",
        "sms_endpoint": provider.url,
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from": "+15017122661",
    } | overrides
    driver = driver_of(**settings)
    assert isinstance(driver, TwilioSms)
    return driver


async def test_twilio_creates_a_message_with_basic_auth(provider: Provider) -> None:
    english = OutboundMessage(**{**_fields(MESSAGE), "recipient": "+14155552671", "body": "Hi"})
    result = await twilio(provider).send(english)
    assert result.ok, result.error
    assert (result.provider_message_id or "").startswith("SM")
    form = dict(parse_qsl(provider.received[0].body.decode()))
    assert form == {"To": "+14155552671", "From": "+15017122661", "Body": "Hi"}
    service = await twilio(provider, twilio_from="MG9752274e9e519418a7406176694466fa").send(english)
    assert service.ok
    form = dict(parse_qsl(provider.received[1].body.decode()))
    assert form["MessagingServiceSid"] == "MG9752274e9e519418a7406176694466fa"
    receipts = twilio(provider, twilio_status_callback=True, public_base_url="https://care.cn/")
    assert (await receipts.send(english)).ok
    form = dict(parse_qsl(provider.received[2].body.decode()))
    assert form["StatusCallback"] == "https://care.cn/v1/receipts/twilio"


async def test_twilio_wrong_token_and_bad_number_are_final(provider: Provider) -> None:
    wrong = await twilio(provider, twilio_auth_token="wrong").send(MESSAGE)
    assert (wrong.ok, wrong.retryable) == (False, False)
    assert "401 20003" in (wrong.error or "")
    bad = OutboundMessage(**{**_fields(MESSAGE), "recipient": "13800138000"})
    result = await twilio(provider).send(bad)
    assert (result.ok, result.retryable) == (False, False)
    assert "21211" in (result.error or "")


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ((429, {"code": 20429, "message": "Too Many Requests"}), True),
        ((503, {"code": 20503, "message": "Service unavailable"}), True),
        ((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}), False),
    ],
)
async def test_twilio_errors_are_classified(
    provider: Provider, answer: Answer, retryable: bool
) -> None:
    driver = twilio(provider)
    provider.answer_next = answer
    result = await driver.send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)
    assert str(answer[1]["code"]) in (result.error or "")
