"""Delivery receipts, pure: each provider's push read as the provider documents it, the
signatures, and what a receipt does to a notification."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from dealerflow.contracts.enums import MessageChannel
from dealerflow.notifier.domain_receipts import (
    Receipt,
    ReceiptEffect,
    ReceiptOutcome,
    ReceiptUnreadable,
    aliyun_receipts,
    failure_reason,
    receipt_effect,
    same_secret,
    tencent_receipts,
    twilio_receipt,
    twilio_signature,
    wechat_fields,
    wechat_receipt,
    wechat_signature,
)


def test_aliyun_report_push_is_read_by_biz_id() -> None:
    body = [
        {
            "phone_number": "13811112222",
            "send_time": "2017-01-01 00:00:00",
            "report_time": "2017-01-01 00:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": "900619746936498440^0",
            "out_id": "",
        },
        {"success": False, "err_code": "MK:0001", "err_msg": "空号", "biz_id": "b2"},
        {"success": True, "err_code": "DELIVERED"},  # no biz_id: nothing to match
    ]
    delivered, failed = aliyun_receipts(body)
    assert delivered == Receipt(
        "aliyun",
        MessageChannel.SMS,
        "900619746936498440^0",
        ReceiptOutcome.DELIVERED,
        "DELIVERED",
        "用户接收成功",
    )
    assert (failed.provider_message_id, failed.outcome, failed.code) == (
        "b2",
        ReceiptOutcome.FAILED,
        "MK:0001",
    )


def test_tencent_callback_is_read_by_sid() -> None:
    body = [
        {
            "user_receive_time": "2015-10-17 08:03:04",
            "nationcode": "86",
            "mobile": "13800000000",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "2019:538884*",
        },
        {"report_status": "FAIL", "errmsg": "MN:0001", "description": "空号", "sid": "s2"},
    ]
    delivered, failed = tencent_receipts(body)
    assert (delivered.provider_message_id, delivered.outcome) == (
        "2019:538884*",
        ReceiptOutcome.DELIVERED,
    )
    assert (failed.outcome, failed.code, failed.detail) == (
        ReceiptOutcome.FAILED,
        "MN:0001",
        "空号",
    )


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("delivered", ReceiptOutcome.DELIVERED),
        ("read", ReceiptOutcome.DELIVERED),
        ("undelivered", ReceiptOutcome.FAILED),
        ("failed", ReceiptOutcome.FAILED),
        ("queued", None),
        ("sending", None),
        ("sent", None),
        ("accepted", None),
    ],
)
def test_twilio_status_callback_final_statuses_only(
    status: str, outcome: ReceiptOutcome | None
) -> None:
    form = {"MessageSid": "SM123", "MessageStatus": status, "AccountSid": "AC1"}
    if status == "undelivered":
        form["ErrorCode"] = "30003"
    receipt = twilio_receipt(form)
    assert (receipt.outcome if receipt else None) == outcome
    if receipt is not None and status == "undelivered":
        assert receipt.code == "30003"


def test_twilio_signature_matches_the_documented_example() -> None:
    # Twilio's published example: auth token 12345, this URL and these parameters
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params.items()) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    # order of the form does not matter, the URL does
    assert twilio_signature("12345", url, reversed(list(params.items()))) == (
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert twilio_signature("12345", url + "&x=1", params.items()) != (
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


def test_wechat_signature_is_sha1_of_the_sorted_three() -> None:
    expected = hashlib.sha1(b"1395658920" + b"nonce42" + b"tok").hexdigest()
    assert wechat_signature("tok", "1395658920", "nonce42") == expected
    assert same_secret(expected, wechat_signature("tok", "1395658920", "nonce42"))
    assert not same_secret(expected, wechat_signature("other", "1395658920", "nonce42"))


PUSH = """<xml>
<ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
<CreateTime>1395658920</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
<MsgID>200163836</MsgID>
<Status><![CDATA[{status}]]></Status>
</xml>"""


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("success", ReceiptOutcome.DELIVERED),
        ("failed:user block", ReceiptOutcome.FAILED),
        ("failed: system failed", ReceiptOutcome.FAILED),
        ("failed:freq limit", ReceiptOutcome.FAILED),
    ],
)
def test_wechat_template_job_finished(status: str, outcome: ReceiptOutcome) -> None:
    receipt = wechat_receipt(wechat_fields(PUSH.replace("{status}", status).encode()))
    assert receipt is not None
    assert (receipt.channel, receipt.provider_message_id, receipt.outcome, receipt.code) == (
        MessageChannel.WECHAT,
        "200163836",
        outcome,
        status,
    )


def test_wechat_other_pushes_and_hostile_xml() -> None:
    subscribe = (
        b"<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>"
    )
    assert wechat_receipt(wechat_fields(subscribe)) is None
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><A>&a;</A></xml>'
    for body in (bomb, b"<xml><A>", b"<other/>", b"<xml>" + b" " * 70_000 + b"</xml>"):
        with pytest.raises(ReceiptUnreadable):
            wechat_fields(body)


def _receipt(outcome: ReceiptOutcome) -> Receipt:
    return Receipt("aliyun", MessageChannel.SMS, "b1", outcome, "MK:0001", "空号")


def test_only_a_sent_message_changes_once() -> None:
    delivered, failed = _receipt(ReceiptOutcome.DELIVERED), _receipt(ReceiptOutcome.FAILED)
    at = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    assert receipt_effect("sent", None, delivered) is ReceiptEffect.DELIVERED
    assert receipt_effect("sent", None, failed) is ReceiptEffect.FAILED
    # repeated, or a failure reported after the delivery: nothing
    assert receipt_effect("sent", at, delivered) is ReceiptEffect.NONE
    assert receipt_effect("sent", at, failed) is ReceiptEffect.NONE
    for status in ("failed", "suppressed", "queued"):
        assert receipt_effect(status, None, delivered) is ReceiptEffect.NONE
        assert receipt_effect(status, None, failed) is ReceiptEffect.NONE


def test_failure_reason_names_the_code_never_a_number() -> None:
    assert failure_reason(_receipt(ReceiptOutcome.FAILED)) == (
        "aliyun receipt: not delivered (MK:0001, 空号)"
    )
    leaky = Receipt(
        "tencent", MessageChannel.SMS, "s", ReceiptOutcome.FAILED, "X", "+86 138 0013 8000"
    )
    assert "138" not in failure_reason(leaky)
