"""The survey page (``/s/{token}``): plain HTML + CSS from ``templates/survey.html``
(string.Template), in zh-CN or English, no JavaScript. Every text put in the page is
escaped."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from importlib.resources import files
from string import Template

from fastapi.responses import HTMLResponse

from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain_surveys import SCORE_MAX
from dealerflow.notifier.usecases_surveys import SurveyPage, SurveyState

_PAGE = files("dealerflow.notifier").joinpath("templates/survey.html").read_text("utf-8")
_TEMPLATE = Template(_PAGE)
_STYLE_HASH = base64.b64encode(
    hashlib.sha256(_PAGE.split("<style>", 1)[1].split("</style>", 1)[0].encode()).digest()
).decode()
#: The runtime's API policy allows nothing (``default-src 'none'; form-action 'none'``):
#: the page allows its own inline style (by hash) and posting its form to itself; still
#: no scripts, frames or other origins.
PAGE_CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{_STYLE_HASH}'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_TEXT: dict[Locale, dict[str, str]] = {
    Locale.ZH_CN: {
        "title": "满意度调查",
        "question": "您有多大可能向亲友推荐我们？（0 = 完全不可能，10 = 非常可能）",
        "low": "0 完全不可能",
        "high": "10 非常可能",
        "comment": "您的意见或建议（选填）",
        "submit": "提交",
        "thanks_title": "感谢您的反馈",
        "thanks": "您的评价已收到，感谢您抽出宝贵时间。",
        "answered_title": "您已提交过评价",
        "answered": "这份调查已经提交过了，感谢您的反馈。",
        "expired_title": "链接已过期",
        "expired": "这份调查的链接已过期。如有任何意见，请直接联系我们。",
        "not_found_title": "链接无效",
        "not_found": "无法找到这份调查，请检查链接是否完整。",
        "invalid": "请选择 0 到 10 之间的分数。",
    },
    Locale.EN: {
        "title": "How did we do?",
        "question": "How likely are you to recommend us to friends and family? "
        "(0 = not at all likely, 10 = extremely likely)",
        "low": "0 not at all",
        "high": "10 extremely",
        "comment": "Your comments or suggestions (optional)",
        "submit": "Send",
        "thanks_title": "Thank you for your feedback",
        "thanks": "We received your answer. Thank you for taking the time.",
        "answered_title": "Already answered",
        "answered": "This survey was already answered. Thank you for your feedback.",
        "expired_title": "This link has expired",
        "expired": "The link to this survey has expired. If you have any feedback, please "
        "contact us directly.",
        "not_found_title": "Link not valid",
        "not_found": "We could not find this survey. Please check the link is complete.",
        "invalid": "Please choose a score from 0 to 10.",
    },
}

_STATUS = {
    SurveyState.OPEN: 200,
    SurveyState.THANKS: 200,
    SurveyState.ANSWERED: 409,
    SurveyState.INVALID: 422,
    SurveyState.EXPIRED: 410,
    SurveyState.NOT_FOUND: 404,
}


def _form(text: dict[str, str], error: str | None) -> str:
    scores = "\n".join(
        f'<label class="score"><input type="radio" name="score" value="{n}" required>'
        f"<span>{n}</span></label>"
        for n in range(SCORE_MAX + 1)
    )
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return (
        f"<h1>{escape(text['title'])}</h1>{problem}"
        '<form method="post">'
        f"<fieldset><legend>{escape(text['question'])}</legend>"
        f'<div class="scores">{scores}</div>'
        f'<div class="ends"><span>{escape(text["low"])}</span>'
        f"<span>{escape(text['high'])}</span></div></fieldset>"
        f'<label for="comment">{escape(text["comment"])}</label>'
        '<textarea id="comment" name="comment" maxlength="2000"></textarea>'
        f'<button type="submit">{escape(text["submit"])}</button>'
        "</form>"
    )


class SurveyPageView:
    """The HTML response of a survey page."""

    @classmethod
    def of(cls, page: SurveyPage) -> HTMLResponse:
        text = _TEXT[page.locale]
        if page.state in (SurveyState.OPEN, SurveyState.INVALID):
            title = text["title"]
            error = text["invalid"] if page.state is SurveyState.INVALID else None
            content = _form(text, error)
        else:
            name = page.state.value
            title = text[f"{name}_title"]
            content = f"<h1>{escape(title)}</h1><p>{escape(text[name])}</p>"
        html = _TEMPLATE.substitute(
            lang=escape(page.locale.value), title=escape(title), content=content
        )
        return HTMLResponse(
            html,
            status_code=_STATUS[page.state],
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": PAGE_CSP,
            },
        )
