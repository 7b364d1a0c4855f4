"""SMS channel drivers for the providers dealers use: Alibaba Cloud SMS (``aliyun``) and
Tencent Cloud SMS (``tencent``) in mainland China, Twilio (``twilio``) elsewhere.

Chosen with ``DEALERFLOW_NOTIFIER_SMS_DRIVER`` (or ``"sms"`` in ``..._CHANNEL_DRIVERS``);
each reads its credentials from the notifier's settings (``..._ALIYUN_*``,
``..._TENCENT_*``, ``..._TWILIO_*``) and ``..._SMS_ENDPOINT`` overrides the provider's URL
(a private gateway, tests).

Mainland providers send only approved templates: the dealer's provider account holds an
approved template per message kind (``..._SMS_TEMPLATES``: kind -> template code/id,
``"*"`` the fallback) with ONE variable that carries the text the notifier rendered in
the customer's locale (Aliyun ``${content}``, TemplateParam ``{"content": ...}``; Tencent
``{1}``, TemplateParamSet ``[...]``). Twilio sends the rendered text as it is.

Signatures, as each provider documents them:

- Aliyun RPC (dysmsapi ``SendSms``, version 2017-05-25): the parameters (common ones,
  ``SignatureMethod=HMAC-SHA1``, ``SignatureVersion=1.0``, a fresh ``SignatureNonce``, a
  UTC ``Timestamp``) sorted, RFC 3986 percent-encoded into the canonicalized query;
  ``StringToSign = "POST&%2F&" + percentEncode(canonicalized)``; ``Signature =
  base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))``; POSTed form-encoded.
- Tencent Cloud API 3.0 (``SendSms``, version 2021-01-11), TC3-HMAC-SHA256: a canonical
  request (method, ``/``, empty query, the ``content-type`` and ``host`` headers, the
  hex SHA-256 of the JSON body), ``StringToSign = "TC3-HMAC-SHA256\\n" + timestamp +
  "\\n" + date/sms/tc3_request + "\\n" + hex(SHA-256(canonical request))``, the key
  derived ``HMAC("TC3" + SecretKey, date) -> service -> "tc3_request"``, sent in
  ``Authorization`` with ``X-TC-Action/-Timestamp/-Version/-Region``.
- Twilio (Messages API, ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``): HTTP
  basic auth AccountSid:AuthToken, form fields ``To``, ``From`` (a number) or
  ``MessagingServiceSid`` (``MG...``), ``Body``.

Answers: the provider's success (Aliyun ``Code == "OK"`` with a ``BizId``; Tencent a
``SendStatusSet`` entry with ``Code == "Ok"`` and its ``SerialNo``; Twilio 201 with a
``sid``) is sent. Throttling, the providers' internal/system errors, HTTP 408/429/5xx and
connection errors are retryable; everything else (bad number, template, signature,
credentials, balance) is final and recorded as ``NotificationFailed`` with the code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from dealerflow.notifier.channels import OutboundMessage, SendResult, retryable_status
from dealerflow.notifier.settings import NotifierSettings

__all__ = [
    "ALIYUN_ENDPOINT",
    "TENCENT_ENDPOINT",
    "TWILIO_ENDPOINT",
    "AliyunSms",
    "TencentSms",
    "TwilioSms",
    "aliyun_driver",
    "aliyun_signature",
    "percent_encode",
    "tc3_authorization",
    "tencent_driver",
    "twilio_driver",
]

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"

Clock = Callable[[], float]


def _template(templates: Mapping[str, str], kind: str) -> str | None:
    return templates.get(kind) or templates.get("*")


def _no_template(provider: str, kind: str) -> SendResult:
    error = f"{provider}: no SMS template for {kind!r} (DEALERFLOW_NOTIFIER_SMS_TEMPLATES)"
    return SendResult(ok=False, error=error, retryable=False)


async def _post(url: str, timeout_s: float, **request: Any) -> httpx.Response | SendResult:
    """POST, with a transport problem turned into a retryable failure."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            return await client.post(url, **request)
    except httpx.HTTPError as exc:
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# --- Aliyun -----------------------------------------------------------------------------


def percent_encode(value: str) -> str:
    """Aliyun's percentEncode: RFC 3986 (UTF-8; only A-Z a-z 0-9 - _ . ~ unescaped, so a
    space is %20, ``*`` %2A and ``~`` stays)."""
    return quote(value, safe="~")


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The ``Signature`` of an Aliyun RPC request with ``params`` (without Signature)."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


#: Aliyun codes worth trying again later (throttling, flow control, their own failures).
_ALIYUN_RETRYABLE = ("isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling")


class AliyunSms:
    """Alibaba Cloud SMS ``SendSms``."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = ALIYUN_ENDPOINT,
        region: str = "cn-hangzhou",
        timeout_s: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.endpoint = endpoint
        self.region = region
        self.timeout_s = timeout_s
        self._clock = clock

    def params(self, message: OutboundMessage, template_code: str) -> dict[str, str]:
        """The signed form of ``SendSms`` for ``message``."""
        at = datetime.fromtimestamp(self._clock(), UTC)
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": message.recipient,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps({"content": message.body}, ensure_ascii=False),
            "OutId": str(message.id),
        }
        params["Signature"] = aliyun_signature(self._secret, "POST", params)
        return params

    async def send(self, message: OutboundMessage) -> SendResult:
        template_code = _template(self.templates, message.kind)
        if template_code is None:
            return _no_template(self.name, message.kind)
        response = await _post(
            self.endpoint, self.timeout_s, data=self.params(message, template_code)
        )
        if isinstance(response, SendResult):
            return response
        answer = _json(response)
        code = str(answer.get("Code", ""))
        if response.is_success and code == "OK":
            return SendResult(ok=True, provider_message_id=str(answer.get("BizId") or "") or None)
        retryable = retryable_status(response.status_code) or code.startswith(_ALIYUN_RETRYABLE)
        error = f"aliyun answered {response.status_code} {code}: {answer.get('Message', '')}"
        return SendResult(ok=False, error=error[:500], retryable=retryable)


def aliyun_driver(settings: NotifierSettings) -> AliyunSms:
    """The ``aliyun`` driver from ``DEALERFLOW_NOTIFIER_ALIYUN_*``."""
    secret = settings.aliyun_access_key_secret
    if not (settings.aliyun_access_key_id and secret and settings.aliyun_sms_sign_name):
        raise ValueError(
            "the aliyun SMS driver needs DEALERFLOW_NOTIFIER_ALIYUN_ACCESS_KEY_ID, "
            "..._ALIYUN_ACCESS_KEY_SECRET and ..._ALIYUN_SMS_SIGN_NAME"
        )
    return AliyunSms(
        access_key_id=settings.aliyun_access_key_id,
        access_key_secret=secret.get_secret_value(),
        sign_name=settings.aliyun_sms_sign_name,
        templates=settings.sms_templates,
        endpoint=settings.sms_endpoint or ALIYUN_ENDPOINT,
        region=settings.aliyun_region,
        timeout_s=settings.sms_timeout_s,
    )


# --- Tencent ----------------------------------------------------------------------------

TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com"
_TC3 = "TC3-HMAC-SHA256"
#: Tencent codes worth trying again later (their internal errors, frequency limits).
_TENCENT_RETRYABLE = ("InternalError", "RequestLimitExceeded", "LimitExceeded.DeliveryFrequency")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    content_type: str,
    body: bytes,
    timestamp: int,
) -> str:
    """The ``Authorization`` header of a Tencent Cloud API 3.0 POST (TC3-HMAC-SHA256)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            # names and values lower-cased and trimmed, as Tencent canonicalises them
            f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n",
            signed_headers,
            _sha256_hex(body),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{_TC3}\n{timestamp}\n{scope}\n{_sha256_hex(canonical_request.encode())}"
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{_TC3} Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


class TencentSms:
    """Tencent Cloud SMS ``SendSms`` (API 3.0, version 2021-01-11)."""

    name = "tencent"
    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = TENCENT_ENDPOINT,
        region: str = "ap-guangzhou",
        timeout_s: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        self._secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.endpoint = endpoint
        self.region = region
        self.timeout_s = timeout_s
        self._clock = clock

    def request(self, message: OutboundMessage, template_id: str) -> tuple[bytes, dict[str, str]]:
        """The JSON body and signed headers of ``SendSms`` for ``message``."""
        document = {
            "PhoneNumberSet": [message.recipient],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": [message.body],
            "SessionContext": str(message.id),
        }
        body = json.dumps(document, ensure_ascii=False).encode()
        timestamp = int(self._clock())
        host = urlsplit(self.endpoint).netloc
        authorization = tc3_authorization(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service="sms",
            host=host,
            content_type=self.content_type,
            body=body,
            timestamp=timestamp,
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": self.content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.region,
        }
        return body, headers

    async def send(self, message: OutboundMessage) -> SendResult:
        template_id = _template(self.templates, message.kind)
        if template_id is None:
            return _no_template(self.name, message.kind)
        body, headers = self.request(message, template_id)
        response = await _post(self.endpoint, self.timeout_s, content=body, headers=headers)
        if isinstance(response, SendResult):
            return response
        answer = _json(response).get("Response") or {}
        error = answer.get("Error") if isinstance(answer, dict) else None
        statuses = answer.get("SendStatusSet") if isinstance(answer, dict) else None
        if response.is_success and not error and statuses:
            status = statuses[0]
            code = str(status.get("Code", ""))
            if code == "Ok":
                return SendResult(ok=True, provider_message_id=str(status.get("SerialNo") or ""))
            text = f"tencent refused {code}: {status.get('Message', '')}"
            return SendResult(
                ok=False, error=text[:500], retryable=code.startswith(_TENCENT_RETRYABLE)
            )
        code = str((error or {}).get("Code", ""))
        retryable = retryable_status(response.status_code) or code.startswith(_TENCENT_RETRYABLE)
        text = f"tencent answered {response.status_code} {code}: {(error or {}).get('Message', '')}"
        return SendResult(ok=False, error=text[:500], retryable=retryable)


def tencent_driver(settings: NotifierSettings) -> TencentSms:
    """The ``tencent`` driver from ``DEALERFLOW_NOTIFIER_TENCENT_*``."""
    key = settings.tencent_secret_key
    if not (
        settings.tencent_secret_id
        and key
        and settings.tencent_sms_app_id
        and settings.tencent_sms_sign_name
    ):
        raise ValueError(
            "the tencent SMS driver needs DEALERFLOW_NOTIFIER_TENCENT_SECRET_ID, "
            "..._TENCENT_SECRET_KEY, ..._TENCENT_SMS_APP_ID and ..._TENCENT_SMS_SIGN_NAME"
        )
    return TencentSms(
        secret_id=settings.tencent_secret_id,
        secret_key=key.get_secret_value(),
        sdk_app_id=settings.tencent_sms_app_id,
        sign_name=settings.tencent_sms_sign_name,
        templates=settings.sms_templates,
        endpoint=settings.sms_endpoint or TENCENT_ENDPOINT,
        region=settings.tencent_region,
        timeout_s=settings.sms_timeout_s,
    )


# --- Twilio -----------------------------------------------------------------------------

TWILIO_ENDPOINT = "https://api.twilio.com"


class TwilioSms:
    """Twilio Programmable Messaging (``Messages.json``), for dealers outside China."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        endpoint: str = TWILIO_ENDPOINT,
        timeout_s: float = 10.0,
        status_callback: str | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.sender = sender  # a number (+1...) or a Messaging Service SID (MG...)
        self.endpoint = endpoint.rstrip("/")
        self.timeout_s = timeout_s
        #: Where Twilio posts the message's status changes (our delivery receipts route).
        self.status_callback = status_callback

    def form(self, message: OutboundMessage) -> dict[str, str]:
        """The form fields of the message resource to create."""
        sender_field = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        form = {"To": message.recipient, sender_field: self.sender, "Body": message.body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        return form

    async def send(self, message: OutboundMessage) -> SendResult:
        url = f"{self.endpoint}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = await _post(
            url,
            self.timeout_s,
            data=self.form(message),
            auth=(self.account_sid, self._auth_token),
        )
        if isinstance(response, SendResult):
            return response
        answer = _json(response)
        if response.is_success and answer.get("sid"):
            return SendResult(ok=True, provider_message_id=str(answer["sid"]))
        code = answer.get("code", "")
        error = f"twilio answered {response.status_code} {code}: {answer.get('message', '')}"
        return SendResult(
            ok=False, error=error[:500], retryable=retryable_status(response.status_code)
        )


def twilio_driver(settings: NotifierSettings) -> TwilioSms:
    """The ``twilio`` driver from ``DEALERFLOW_NOTIFIER_TWILIO_*``."""
    token = settings.twilio_auth_token
    if not (settings.twilio_account_sid and token and settings.twilio_from):
        raise ValueError(
            "the twilio SMS driver needs DEALERFLOW_NOTIFIER_TWILIO_ACCOUNT_SID, "
            "..._TWILIO_AUTH_TOKEN and ..._TWILIO_FROM"
        )
    return TwilioSms(
        account_sid=settings.twilio_account_sid,
        auth_token=token.get_secret_value(),
        sender=settings.twilio_from,
        endpoint=settings.sms_endpoint or TWILIO_ENDPOINT,
        timeout_s=settings.sms_timeout_s,
        status_callback=(
            f"{settings.public_base_url.rstrip('/')}/v1/receipts/twilio"
            if settings.twilio_status_callback
            else None
        ),
    )
