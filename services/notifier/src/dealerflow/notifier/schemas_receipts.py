"""Bodies of the delivery-receipt routes: the providers' shapes (documentation and the
first check of a push; `domain_receipts` reads them) and the answers each provider
expects."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dealerflow.notifier.domain_receipts import ReceiptUnreadable


class _Report(BaseModel):
    model_config = ConfigDict(extra="allow")


class AliyunReportIn(_Report):
    """One entry of an Aliyun SMS ``SmsReport`` push (a JSON array)."""

    phone_number: str | None = Field(default=None, description="Recipient (not kept).")
    send_time: str | None = None
    report_time: str | None = None
    success: bool | None = Field(default=None, description="Whether the phone received it.")
    err_code: str | None = Field(default=None, description="Status code, e.g. DELIVERED.")
    err_msg: str | None = None
    sms_size: str | None = None
    biz_id: str | None = Field(default=None, description="The BizId SendSms returned.")
    out_id: str | None = None


class TencentReportIn(_Report):
    """One entry of a Tencent Cloud SMS status callback (a JSON array)."""

    user_receive_time: str | None = None
    nationcode: str | None = None
    mobile: str | None = Field(default=None, description="Recipient (not kept).")
    report_status: str | None = Field(default=None, description="SUCCESS or FAIL.")
    errmsg: str | None = Field(default=None, description="Status code, e.g. DELIVRD.")
    description: str | None = None
    sid: str | None = Field(default=None, description="The SerialNo SendSms returned.")


class AliyunAnswer(BaseModel):
    """What Aliyun expects back (HTTP 200, a numeric code)."""

    code: int = 0
    msg: str = "接收成功"


class TencentAnswer(BaseModel):
    """What Tencent expects back (``result`` 0: received)."""

    result: int = 0
    errmsg: str = "OK"


_ALIYUN = TypeAdapter(list[AliyunReportIn])
_TENCENT = TypeAdapter(list[TencentReportIn])


def _reports(adapter: TypeAdapter[Any], body: bytes) -> list[dict[str, Any]]:
    try:
        reports = adapter.validate_json(body or b"null")
    except ValidationError as exc:
        # the error without the input (a phone number) it was about
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ReceiptUnreadable(
            f"not a JSON array of status reports: {where}: {first['msg']}"
        ) from None
    return [report.model_dump() for report in reports]


def aliyun_reports(body: bytes) -> list[dict[str, Any]]:
    """The entries of an Aliyun push (`ReceiptUnreadable`: not its shape)."""
    return _reports(_ALIYUN, body)


def tencent_reports(body: bytes) -> list[dict[str, Any]]:
    """The entries of a Tencent callback (`ReceiptUnreadable`: not its shape)."""
    return _reports(_TENCENT, body)


def array_of(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a JSON array of ``model``."""
    schema = {"type": "array", "items": model.model_json_schema()}
    return {"required": True, "content": {"application/json": {"schema": schema}}}
