"""Delivery receipts: what the message providers tell us after they accepted a message.

Each provider pushes its own shape to a public route of ours (`api_receipts`); the
functions here turn each into :class:`Receipt` values (provider message id, delivered or
failed, the provider's code) and decide what a receipt does to the notification it names
(:func:`receipt_effect`). Shapes, as the providers document them:

- Aliyun SMS ``SmsReport`` (HTTP batch push): a JSON array of ``{phone_number,
  send_time, report_time, success, err_code, err_msg, sms_size, biz_id, out_id}``;
  ``biz_id`` is the ``BizId`` SendSms returned. No signature: a secret path token.
- Tencent Cloud SMS status callback: a JSON array of ``{user_receive_time, nationcode,
  mobile, report_status: SUCCESS|FAIL, errmsg, description, sid}``; ``sid`` is the
  ``SerialNo`` SendSms returned. No signature: a secret path token.
- Twilio ``StatusCallback``: a form POST with ``MessageSid``, ``MessageStatus``
  (queued, sending, sent, delivered, undelivered, failed, read, ...), ``ErrorCode``;
  signed ``X-Twilio-Signature`` = base64 HMAC-SHA1(auth token, the full URL Twilio
  called + every form key and value sorted by key, no separators)
  (:func:`twilio_signature`).
- WeChat ``TEMPLATESENDJOBFINISH`` event (the official account's server URL): XML with
  ``MsgID`` (the msgid template/send returned) and ``Status`` ``success`` /
  ``failed:user block`` / ``failed: system failed`` (also seen: ``failed:freq limit``);
  the query's ``signature`` = SHA-1 of the sorted ``token``, ``timestamp``, ``nonce``
  (:func:`wechat_signature`).

A receipt never carries the phone number or openid further: only ids and codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dealerflow.contracts.enums import MessageChannel

__all__ = [
    "Receipt",
    "ReceiptEffect",
    "ReceiptOutcome",
    "ReceiptUnreadable",
    "aliyun_receipts",
    "failure_reason",
    "receipt_effect",
    "same_secret",
    "tencent_receipts",
    "twilio_receipt",
    "twilio_signature",
    "wechat_fields",
    "wechat_receipt",
    "wechat_signature",
]

#: Longest provider message id we match (the notifications column takes any text).
MAX_ID_LENGTH = 200
_CODE_LENGTH = 100


class ReceiptUnreadable(ValueError):
    """A push whose body is not the provider's shape."""


class ReceiptOutcome(StrEnum):
    """What a receipt says about a message."""

    DELIVERED = "delivered"
    FAILED = "failed"


class ReceiptEffect(StrEnum):
    """What a receipt does to the notification it names."""

    NONE = "none"  # already known, or a message that was not sent
    DELIVERED = "delivered"  # record delivered_at
    FAILED = "failed"  # status failed + NotificationFailed (final)


@dataclass(frozen=True, slots=True)
class Receipt:
    """One provider report about one message."""

    provider: str
    channel: MessageChannel
    provider_message_id: str
    outcome: ReceiptOutcome
    #: The provider's status code (e.g. ``DELIVERED``, ``MK:0001``, ``30003``).
    code: str | None = None
    #: The provider's short description of the code (never an address).
    detail: str | None = None


def _text(value: Any, limit: int = _CODE_LENGTH) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _message_id(value: Any) -> str | None:
    text = _text(value, MAX_ID_LENGTH + 1)
    return text if text is not None and len(text) <= MAX_ID_LENGTH else None


def _sms_reports(
    provider: str, body: Any, fields: tuple[str, str, str], delivered: Callable[[Any], bool]
) -> list[Receipt]:
    """The receipts of a JSON array of SMS reports; ``fields`` name the message id, the
    code and the description; entries without an id are skipped."""
    id_field, code_field, detail_field = fields
    receipts = []
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, Mapping):
            continue
        message_id = _message_id(item.get(id_field))
        if message_id is None:
            continue
        receipts.append(
            Receipt(
                provider=provider,
                channel=MessageChannel.SMS,
                provider_message_id=message_id,
                outcome=ReceiptOutcome.DELIVERED if delivered(item) else ReceiptOutcome.FAILED,
                code=_text(item.get(code_field)),
                detail=_text(item.get(detail_field)),
            )
        )
    return receipts


def aliyun_receipts(body: Any) -> list[Receipt]:
    """The receipts of an Aliyun ``SmsReport`` push (by ``biz_id``; ``success``)."""

    def delivered(item: Any) -> bool:
        return item.get("success") is True or str(item.get("success")).lower() == "true"

    return _sms_reports("aliyun", body, ("biz_id", "err_code", "err_msg"), delivered)


def tencent_receipts(body: Any) -> list[Receipt]:
    """The receipts of a Tencent Cloud SMS status callback (by ``sid``; ``report_status``
    SUCCESS)."""

    def delivered(item: Any) -> bool:
        return str(item.get("report_status", "")).upper() == "SUCCESS"

    return _sms_reports("tencent", body, ("sid", "errmsg", "description"), delivered)


#: Twilio's final statuses (the others, queued/sending/sent/accepted/scheduled, are steps).
_TWILIO_OUTCOMES = {
    "delivered": ReceiptOutcome.DELIVERED,
    "read": ReceiptOutcome.DELIVERED,
    "undelivered": ReceiptOutcome.FAILED,
    "failed": ReceiptOutcome.FAILED,
}


def twilio_receipt(form: Mapping[str, str]) -> Receipt | None:
    """The receipt of a Twilio status callback; None for an intermediate status."""
    sid = _message_id(form.get("MessageSid") or form.get("SmsSid"))
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    outcome = _TWILIO_OUTCOMES.get(status)
    if sid is None or outcome is None:
        return None
    return Receipt(
        provider="twilio",
        channel=MessageChannel.SMS,
        provider_message_id=sid,
        outcome=outcome,
        code=_text(form.get("ErrorCode")) or status,
        detail=status,
    )


def twilio_signature(auth_token: str, url: str, form: Iterable[tuple[str, str]]) -> str:
    """``X-Twilio-Signature`` of a form POST to ``url``: base64 of HMAC-SHA1 keyed with the
    auth token over the URL followed by each key and value, sorted by key (a repeated
    key: its values in order)."""
    data = url + "".join(f"{key}{value}" for key, value in sorted(form, key=lambda kv: kv[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """The ``signature`` query parameter of a WeChat server push: SHA-1 hex of the token,
    timestamp and nonce sorted and joined."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Whether ``given`` equals ``expected`` (constant time: a path token, a signature)."""
    return hmac.compare_digest(given.encode(), expected.encode())


#: A WeChat push is a flat document of a few hundred bytes.
MAX_XML_BYTES = 64 * 1024


def wechat_fields(body: bytes) -> dict[str, str]:
    """The top-level fields of a WeChat push (``<xml><Name>text</Name>...</xml>``).
    Refused (`ReceiptUnreadable`): more than 64 KiB, a DTD or entity declaration
    (WeChat sends none; no entity is ever expanded), not XML, another root."""
    if len(body) > MAX_XML_BYTES:
        raise ReceiptUnreadable("the XML document is too large")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ReceiptUnreadable("DTDs and entity declarations are refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ReceiptUnreadable(f"not XML: {exc}") from None
    if root.tag != "xml":
        raise ReceiptUnreadable(f"the root element is <{root.tag[:40]}>, not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def wechat_receipt(fields: Mapping[str, str]) -> Receipt | None:
    """The receipt of a WeChat push (its XML's top-level fields); None for any other
    event or message the server URL receives."""
    if fields.get("MsgType") != "event" or fields.get("Event") != "TEMPLATESENDJOBFINISH":
        return None
    msg_id = _message_id(fields.get("MsgID") or fields.get("MsgId"))
    status = (fields.get("Status") or "").strip()
    if msg_id is None or not status:
        return None
    delivered = status == "success"
    return Receipt(
        provider="wechat",
        channel=MessageChannel.WECHAT,
        provider_message_id=msg_id,
        outcome=ReceiptOutcome.DELIVERED if delivered else ReceiptOutcome.FAILED,
        code=_text(status),
    )


def receipt_effect(status: str, delivered_at: datetime | None, receipt: Receipt) -> ReceiptEffect:
    """What ``receipt`` does to a notification in ``status``: only a sent message changes
    (one failed, suppressed or queued stays as it is), once (a repeated receipt, or a
    failure reported after the delivery, changes nothing)."""
    if status != "sent" or delivered_at is not None:
        return ReceiptEffect.NONE
    if receipt.outcome is ReceiptOutcome.DELIVERED:
        return ReceiptEffect.DELIVERED
    return ReceiptEffect.FAILED


_LONG_NUMBER = re.compile(r"\+?\d[\d -]{6,}\d")


def failure_reason(receipt: Receipt) -> str:
    """The error recorded and published for a failed receipt: provider, code and the
    provider's description, any long number in it masked (never the recipient's)."""
    details = [receipt.code] if receipt.code else []
    if receipt.detail and receipt.detail != receipt.code:
        details.append(receipt.detail)
    text = f"{receipt.provider} receipt: not delivered"
    if details:
        text += f" ({', '.join(details)})"
    return _LONG_NUMBER.sub("***", text)
