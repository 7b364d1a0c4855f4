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
    "AliyunSms",
    "aliyun_driver",
    "aliyun_signature",
    "percent_encode",
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


def _host_of(url: str) -> str:
    return urlsplit(url).netloc
