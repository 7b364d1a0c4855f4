"""Delivery receipts (/v1/receipts/...): the message providers call these, no token of
ours; each route authenticates its provider the provider's way and answers as the
provider expects (anything else makes it push again). A receipt for a message we do not
know is accepted and ignored (`usecases_receipts`).

- ``POST /v1/receipts/aliyun/{token}``: Aliyun SMS ``SmsReport`` (HTTP batch push), a
  JSON array; no signature, so the URL's last segment is the secret
  ``receipt_path_token`` (404 otherwise). Answer ``{"code": 0, "msg": "接收成功"}``.
- ``POST /v1/receipts/tencent/{token}``: Tencent Cloud SMS status callback, a JSON
  array; the same secret path token. Answer ``{"result": 0, "errmsg": "OK"}``.
- ``POST /v1/receipts/twilio``: Twilio ``StatusCallback`` (a form), verified by
  ``X-Twilio-Signature`` over ``public_base_url`` + the path and query (the URL Twilio
  was given) with ``twilio_auth_token`` (403 otherwise). Answer 204.
- ``GET``/``POST /v1/receipts/wechat``: the WeChat official account's server URL:
  ``signature`` of ``wechat_server_token``, ``timestamp`` and ``nonce`` (403 otherwise);
  GET is WeChat's URL check (answer ``echostr``), POST an event in XML (plaintext or
  compatible mode): TEMPLATESENDJOBFINISH is a receipt, every other event is answered
  ``success`` and ignored.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from dealerflow.notifier import usecases_receipts as uc_receipts
from dealerflow.notifier.domain_receipts import (
    Receipt,
    aliyun_receipts,
    tencent_receipts,
    twilio_receipt,
    wechat_fields,
    wechat_receipt,
)
from dealerflow.notifier.schemas_receipts import (
    AliyunAnswer,
    AliyunReportIn,
    TencentAnswer,
    TencentReportIn,
    aliyun_reports,
    array_of,
    tencent_reports,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.auth import public
from dealerflow.runtime.db import ALL_DEALERS
from dealerflow.runtime.http import problem_doc
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])
log = logging.getLogger("dealerflow.notifier.receipts")

Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]
PathToken = Annotated[str, Path(max_length=200, description="The secret receipt_path_token.")]
# optional: a push without them is refused by its signature (403), or 404 unconfigured
Signature = Annotated[str, Query(max_length=100, description="SHA-1 hex (WeChat).")]
Stamp = Annotated[str, Query(max_length=40, description="WeChat's timestamp.")]
Nonce = Annotated[str, Query(max_length=100, description="WeChat's nonce.")]
UNREADABLE = problem_doc("Not the provider's shape")
UNKNOWN = problem_doc("Not configured, or a wrong path token")
FORGED = problem_doc("The provider's signature does not verify")
#: A form POST of Twilio's is about 1 KiB.
_MAX_FORM = 64 * 1024


async def _record(ctx: Ctx, receipts: list[Receipt]) -> None:
    if receipts:
        # a push names no dealer and may carry several dealers' messages
        await ctx.run_in_transaction(
            lambda uc: uc_receipts.record_receipts(uc, receipts), dealers=ALL_DEALERS
        )


@router.post(
    "/aliyun/{token}",
    dependencies=[public()],
    response_model=AliyunAnswer,
    summary="Aliyun SMS status reports (SmsReport HTTP batch push)",
    responses={400: UNREADABLE, 404: UNKNOWN},
    openapi_extra={"requestBody": array_of(AliyunReportIn)},
)
async def aliyun_report(ctx: Ctx, request: Request, token: PathToken) -> AliyunAnswer:
    """Record the delivered / failed reports of the messages Aliyun accepted."""
    uc_receipts.check_path_token(ctx.settings, token)
    await _record(ctx, aliyun_receipts(aliyun_reports(await request.body())))
    return AliyunAnswer()


@router.post(
    "/tencent/{token}",
    dependencies=[public()],
    response_model=TencentAnswer,
    summary="Tencent Cloud SMS status callback",
    responses={400: UNREADABLE, 404: UNKNOWN},
    openapi_extra={"requestBody": array_of(TencentReportIn)},
)
async def tencent_report(ctx: Ctx, request: Request, token: PathToken) -> TencentAnswer:
    """Record the SUCCESS / FAIL reports of the messages Tencent accepted."""
    uc_receipts.check_path_token(ctx.settings, token)
    await _record(ctx, tencent_receipts(tencent_reports(await request.body())))
    return TencentAnswer()


@router.post(
    "/twilio",
    dependencies=[public()],
    status_code=204,
    summary="Twilio message StatusCallback",
    responses={403: FORGED, 404: UNKNOWN},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "MessageSid": {"type": "string"},
                            "MessageStatus": {"type": "string"},
                            "ErrorCode": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def twilio_status(
    ctx: Ctx,
    request: Request,
    signature: Annotated[str, Header(alias="X-Twilio-Signature", max_length=200)] = "",
) -> Response:
    """Record a message's final status (delivered, read, undelivered, failed); the
    intermediate ones (queued, sending, sent, ...) are acknowledged and ignored."""
    body = (await request.body())[:_MAX_FORM].decode("utf-8", errors="replace")
    form = parse_qsl(body, keep_blank_values=True)
    url = ctx.settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += f"?{request.url.query}"
    uc_receipts.check_twilio(ctx.settings, url, form, signature)
    receipt = twilio_receipt(dict(form))
    if receipt is None:
        uc_receipts.count_ignored("twilio")
    else:
        await _record(ctx, [receipt])
    return Response(status_code=204)


@router.get(
    "/wechat",
    dependencies=[public()],
    response_class=PlainTextResponse,
    summary="WeChat server URL check",
    responses={403: FORGED, 404: UNKNOWN},
)
async def wechat_check(
    ctx: Ctx,
    signature: Signature = "",
    timestamp: Stamp = "",
    nonce: Nonce = "",
    echostr: Annotated[str, Query(max_length=200, description="Echoed when signed.")] = "",
) -> PlainTextResponse:
    """WeChat's check of the server URL: ``echostr`` back when the signature verifies."""
    uc_receipts.check_wechat(ctx.settings, signature, timestamp, nonce)
    return PlainTextResponse(echostr)


@router.post(
    "/wechat",
    dependencies=[public()],
    response_class=PlainTextResponse,
    summary="WeChat pushes (TEMPLATESENDJOBFINISH: template message receipts)",
    responses={400: UNREADABLE, 403: FORGED, 404: UNKNOWN},
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/xml": {"schema": {"type": "string"}}}}
    },
)
async def wechat_push(
    ctx: Ctx,
    request: Request,
    signature: Signature = "",
    timestamp: Stamp = "",
    nonce: Nonce = "",
) -> PlainTextResponse:
    """Record a template message's delivery; ``success`` for every push."""
    uc_receipts.check_wechat(ctx.settings, signature, timestamp, nonce)
    fields = wechat_fields(await request.body())
    receipt = wechat_receipt(fields)
    if receipt is None:
        if "Encrypt" in fields and "MsgType" not in fields:
            log.warning(
                "a WeChat push in safe mode (encrypted) is not read: use plaintext or"
                " compatible mode"
            )
        uc_receipts.count_ignored("wechat")
    else:
        await _record(ctx, [receipt])
    return PlainTextResponse("success")
