"""The unsubscribe link every marketing message carries (/v1/unsubscribe/{token}): no
token of ours, the link's own signed token (`domain_consent.unsubscribe_token`) names the
dealer, customer and channel. ``GET`` shows a small confirmation page (nothing recorded:
mail scanners open links); ``POST`` (the page's button, or a mail client's one-click
unsubscribe per RFC 8058, ``List-Unsubscribe=One-Click``) withdraws marketing on that
channel and publishes ConsentChanged. An invalid token is 404."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse

from dealerflow.notifier import usecases_consent as uc_consent
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_consent import UnsubscribeLinkInvalid, UnsubscribePage
from dealerflow.runtime.auth import public
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1")

Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]
Token = Annotated[str, Path(max_length=600, description="The link's signed token.")]

#: The page loads nothing, posts only to itself and may not be framed.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_STYLE = "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}"


def _html(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": PAGE_CSP})


def _invalid() -> HTMLResponse:
    return _html(
        "链接无效 / Invalid link",
        "<h1>链接无效</h1><p>This unsubscribe link is not valid.</p>",
        404,
    )


def _page(view: UnsubscribePage, token: str) -> HTMLResponse:
    dealer, channel = escape(view.dealer_name), escape(view.target.channel.value)
    if view.withdrawn:
        return _html(
            "已退订 / Unsubscribed",
            f"<h1>已退订</h1><p>您将不再通过 {channel} 收到{dealer}的营销信息。</p>"
            f"<p>You will no longer receive marketing from {dealer} by {channel}.</p>",
        )
    return _html(
        "退订 / Unsubscribe",
        f"<h1>退订</h1><p>不再通过 {channel} 接收{dealer}的营销信息？</p>"
        f"<p>Stop marketing messages from {dealer} by {channel}?</p>"
        f'<form method="post" action="{escape(token)}">'
        '<button type="submit">退订 / Unsubscribe</button></form>',
    )


@router.get(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    tags=["consent"],
    dependencies=[public()],
    responses={404: {"description": "Not a valid link (HTML page)"}},
)
async def unsubscribe_page(ctx: Ctx, token: Token) -> HTMLResponse:
    """The confirmation page (records nothing)."""
    try:
        # a forged link does no database work; a real one acts for its dealer only
        target = uc_consent.unsubscribe_target(ctx.settings, token)
        view = await ctx.run_in_transaction(
            lambda uc: uc_consent.unsubscribe_page(uc, token, confirm=False),
            dealers=target.dealer_id,
        )
    except UnsubscribeLinkInvalid:
        return _invalid()
    return _page(view, token)


@router.post(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    tags=["consent"],
    dependencies=[public()],
    responses={404: {"description": "Not a valid link (HTML page)"}},
)
async def unsubscribe(ctx: Ctx, token: Token) -> HTMLResponse:
    """Withdraw marketing on the link's channel (a repeated click records nothing); any
    body is accepted (RFC 8058 one-click sends ``List-Unsubscribe=One-Click``)."""
    try:
        # a forged link does no database work; a real one acts for its dealer only
        target = uc_consent.unsubscribe_target(ctx.settings, token)
        view = await ctx.run_in_transaction(
            lambda uc: uc_consent.unsubscribe_page(uc, token, confirm=True),
            dealers=target.dealer_id,
        )
    except UnsubscribeLinkInvalid:
        return _invalid()
    return _page(view, token)
