"""The customer's survey page (no token needed: the link's signed token is checked,
`domain_surveys`): ``GET /s/{token}`` shows the form, ``POST /s/{token}`` (an
``application/x-www-form-urlencoded`` form post: score, comment) records the answer once
and shows the thank-you page. Plain HTML (``schemas_surveys``); ``?lang=zh-CN|en``
overrides the customer's locale."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from dealerflow.notifier.domain_surveys import token_dealer
from dealerflow.notifier.schemas_surveys import SurveyPageView
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_surveys import AnswerSurvey, answer_survey, open_survey
from dealerflow.runtime.auth import public
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter()

Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]
Lang = Annotated[str | None, Query(max_length=16, description="zh-CN or en.")]
_MAX_FORM = 16_384


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    tags=["surveys"],
    dependencies=[public()],
    responses={404: {"description": "Unknown link"}, 410: {"description": "Expired link"}},
)
async def get_survey_page(ctx: Ctx, token: str, lang: Lang = None) -> HTMLResponse:
    """The survey form (0-10 and a comment); "already answered", expired (410) or not
    found (404) pages otherwise."""
    page = await ctx.run_in_transaction(
        lambda uc: open_survey(uc, token, lang), dealers=token_dealer(token)
    )
    return SurveyPageView.of(page)


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    tags=["surveys"],
    dependencies=[public()],
    responses={
        404: {"description": "Unknown link"},
        409: {"description": "Already answered"},
        410: {"description": "Expired link"},
        422: {"description": "No or a bad score: the form again"},
    },
)
async def post_survey_answer(
    ctx: Ctx, request: Request, token: str, lang: Lang = None
) -> HTMLResponse:
    """Record the answer (once) and publish SurveyResponded; the thank-you page."""
    body = (await request.body())[:_MAX_FORM].decode("utf-8", errors="replace")
    form = parse_qs(body, keep_blank_values=True)
    cmd = AnswerSurvey(
        token=token,
        score=next(iter(form.get("score", ())), None),
        comment=next(iter(form.get("comment", ())), None),
        lang=lang,
    )
    page = await ctx.run_in_transaction(
        lambda uc: answer_survey(uc, cmd), dealers=token_dealer(token)
    )
    return SurveyPageView.of(page)
