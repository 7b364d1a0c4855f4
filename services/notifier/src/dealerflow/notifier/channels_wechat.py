"""WeChat official-account template messages (driver ``wechat``, for the ``wechat``
message channel: ``"wechat": "wechat"`` in ``DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS``).

The customer's address is the OpenID the contact snapshot carries
(``ContactSnapshot.wechat_openid``: the customer's id under the dealer's official
account); a message without one is a final failure ("no WeChat openid").

Access token: the stable token (``POST /cgi-bin/stable_token`` {grant_type
client_credential, appid, secret}; answers ``access_token`` and ``expires_in``, at most
7200 s). Unlike ``GET /cgi-bin/token`` it is isolated from other callers: several
notifier instances (and the dealer's own tools) asking for it do not invalidate each
other's token, so no central token server is needed. The normal mode only (never
``force_refresh``: limited to 20 a day and it invalidates the token of every other
holder). The token is kept in process until ``expires_in`` minus
``wechat_token_margin_s`` (WeChat hands out a new one in the last 5 minutes); one fetch at
a time (an ``asyncio.Lock``: concurrent sends wait for the same fetch). An answer that
the token is invalid or expired (errcode 40001, 40014, 42001) drops it, fetches a fresh
one and sends once more. The token travels in the URL's query: the driver masks it in
the ``httpx`` request log lines and in its errors.

Send: ``POST /cgi-bin/message/template/send?access_token=...`` with ``touser`` (the
OpenID), ``template_id`` (per message kind: ``DEALERFLOW_NOTIFIER_WECHAT_TEMPLATES``, kind
-> template id, ``"*"`` the fallback, as for the SMS templates), ``url`` (the message's
survey or unsubscribe link when it has one), ``client_msg_id`` (the message id, stable
across retries of one attempt: WeChat sends one message per OpenID and id) and ``data``:
the template's fields (``DEALERFLOW_NOTIFIER_WECHAT_TEMPLATE_FIELDS``, field -> ``subject``
or ``body`` of the rendered message; default ``thing1`` = subject, ``thing2`` = body).
Since May 2023 WeChat shows no first line, remark or colours and a field holds at most 20
characters without line breaks: values are put on one line and cut to 20 characters
(``…`` last); the full text is what the ``url`` page or another channel shows.

Answers: ``errcode`` 0 is sent, ``msgid`` the provider id. System busy (-1), the API
quota/frequency limits (45009, 45011), HTTP 408/429/5xx and connection errors are
retryable; the rest is final with the code: the customer does not follow the account
(43004), a bad OpenID (40003), template id (40037) or data (47003), the account's
credentials (40013, 40125, 40164 IP not whitelisted on the token call), ...
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from dealerflow.notifier.channels import OutboundMessage, SendResult, retryable_status
from dealerflow.notifier.settings import NotifierSettings

__all__ = [
    "DEFAULT_FIELDS",
    "FIELD_MAX_CHARS",
    "WECHAT_ENDPOINT",
    "WechatTemplateMessages",
    "field_value",
    "mask_access_token",
    "wechat_driver",
]

WECHAT_ENDPOINT = "https://api.weixin.qq.com"
#: Template fields filled by default (a dealer's template from the category library has
#: its own keys: ``DEALERFLOW_NOTIFIER_WECHAT_TEMPLATE_FIELDS``).
DEFAULT_FIELDS: Mapping[str, Literal["subject", "body"]] = {"thing1": "subject", "thing2": "body"}
#: The most a template field shows (WeChat's rule since 2023-05-04).
FIELD_MAX_CHARS = 20

#: The access token is invalid (40001 invalid credential, 40014 invalid access_token) or
#: expired (42001): fetch a fresh one and send again.
_TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: Worth trying again later: system busy, API daily quota / frequency limits.
_RETRYABLE = frozenset({-1, 45009, 45011})
_EXPLAINED = {
    -1: "system busy",
    40003: "invalid openid",
    40013: "invalid appid",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40164: "caller IP not in the account's whitelist",
    43004: "the customer does not follow the official account",
    45009: "API daily quota reached",
    45011: "API frequency limit",
    47003: "template data do not match the template's fields",
}

Clock = Callable[[], float]

_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s\"']+")


def mask_access_token(text: str) -> str:
    """``text`` with the value of every ``access_token=`` query parameter masked."""
    return _TOKEN_IN_URL.sub(r"\1***", text)


class _MaskAccessTokens(logging.Filter):
    """httpx logs each request's URL at INFO: WeChat's token is in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = mask_access_token(message), None
        return True


def _mask_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskAccessTokens) for f in logger.filters):
        logger.addFilter(_MaskAccessTokens())


def field_value(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    """``text`` as a template field shows it: one line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    good_until: float  # on the driver's clock


class _Failure(Exception):
    """A WeChat call that did not give what was asked (the send's outcome)."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error)
        self.result = result


def _errcode(answer: Mapping[str, Any]) -> int:
    try:
        return int(answer.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def _refused(what: str, answer: Mapping[str, Any]) -> SendResult:
    code = _errcode(answer)
    reason = _EXPLAINED.get(code) or str(answer.get("errmsg") or "")
    error = f"wechat {what} errcode {code}: {reason}"
    return SendResult(ok=False, error=error[:500], retryable=code in _RETRYABLE)


class WechatTemplateMessages:
    """Template messages of one WeChat official account (its AppID and AppSecret)."""

    name = "wechat"

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        templates: Mapping[str, str],
        fields: Mapping[str, str] = DEFAULT_FIELDS,
        endpoint: str = WECHAT_ENDPOINT,
        timeout_s: float = 10.0,
        token_margin_s: float = 300.0,
        clock: Clock = time.monotonic,
    ) -> None:
        unknown = sorted(part for part in fields.values() if part not in ("subject", "body"))
        if unknown or not fields:
            raise ValueError(
                "DEALERFLOW_NOTIFIER_WECHAT_TEMPLATE_FIELDS maps template fields to "
                f"'subject' or 'body' (got {dict(fields)})"
            )
        self.app_id = app_id
        self._secret = app_secret
        self.templates = dict(templates)
        self.fields = dict(fields)
        self.endpoint = endpoint.rstrip("/")
        self.timeout_s = timeout_s
        self.token_margin_s = token_margin_s
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        _mask_httpx_logs()

    def document(self, message: OutboundMessage, template_id: str) -> dict[str, Any]:
        """The JSON of ``template/send`` for ``message``."""
        parts = {"subject": message.subject, "body": message.body}
        document: dict[str, Any] = {
            "touser": message.recipient,
            "template_id": template_id,
            "client_msg_id": str(message.id),
            "data": {key: {"value": field_value(parts[part])} for key, part in self.fields.items()},
        }
        link = message.metadata.get("survey_url") or message.metadata.get("unsubscribe_url")
        if link:
            document["url"] = link
        return document

    async def send(self, message: OutboundMessage) -> SendResult:
        if not message.recipient:
            return SendResult(ok=False, error="no WeChat openid", retryable=False)
        template_id = self.templates.get(message.kind) or self.templates.get("*")
        if template_id is None:
            error = (
                f"wechat: no template for {message.kind!r} (DEALERFLOW_NOTIFIER_WECHAT_TEMPLATES)"
            )
            return SendResult(ok=False, error=error, retryable=False)
        document = self.document(message, template_id)
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            try:
                token = await self._access_token(client)
                answer = await self._send(client, token, document)
                if _errcode(answer) in _TOKEN_ERRORS:
                    # revoked or expired early: once more with a fresh token
                    token = await self._access_token(client, stale=token)
                    answer = await self._send(client, token, document)
            except _Failure as failure:
                return failure.result
        code = _errcode(answer)
        if code == 0:
            msgid = answer.get("msgid")
            return SendResult(ok=True, provider_message_id=None if msgid is None else str(msgid))
        if code in _TOKEN_ERRORS:
            return SendResult(ok=False, error=_refused("send", answer).error, retryable=True)
        return _refused("send", answer)

    async def _access_token(self, client: httpx.AsyncClient, *, stale: str | None = None) -> str:
        """The cached token, or a fresh one (one fetch at a time); ``stale``: WeChat just
        refused that token, do not hand it out again."""
        async with self._token_lock:
            token = self._token
            if token is not None and token.value != stale and self._clock() < token.good_until:
                return token.value
            self._token = None
            body = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
            answer = await self._call(client, "/cgi-bin/stable_token", body, "token")
            value = answer.get("access_token")
            if _errcode(answer) != 0 or not isinstance(value, str) or not value:
                raise _Failure(_refused("token", answer))
            try:
                lifetime = float(answer.get("expires_in") or 0)
            except (TypeError, ValueError):
                lifetime = 0.0
            # keep it until the margin before expiry (at least half its life)
            keep = max(lifetime - self.token_margin_s, lifetime / 2)
            self._token = _Token(value, self._clock() + keep)
            return value

    async def _send(
        self, client: httpx.AsyncClient, token: str, document: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = "/cgi-bin/message/template/send"
        return await self._call(client, path, document, "send", access_token=token)

    async def _call(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: Mapping[str, Any],
        what: str,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """POST JSON to WeChat; its JSON answer, or :class:`_Failure` for a transport
        problem or an answer that is not WeChat's (retryable when it may pass)."""
        params = {"access_token": access_token} if access_token is not None else None
        # UTF-8 as it is: WeChat shows \u escapes of some APIs literally
        content = json.dumps(body, ensure_ascii=False).encode()
        headers = {"content-type": "application/json; charset=utf-8"}
        try:
            response = await client.post(
                f"{self.endpoint}{path}", content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            error = mask_access_token(f"wechat {what}: {type(exc).__name__}: {exc}")
            raise _Failure(SendResult(ok=False, error=error[:500], retryable=True)) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.is_success or not isinstance(answer, dict):
            error = f"wechat {what} answered {response.status_code}: {response.text[:200]}"
            retryable = retryable_status(response.status_code) or response.is_success
            raise _Failure(SendResult(ok=False, error=error, retryable=retryable))
        return answer


def wechat_driver(settings: NotifierSettings) -> WechatTemplateMessages:
    """The ``wechat`` driver from ``DEALERFLOW_NOTIFIER_WECHAT_*``."""
    secret = settings.wechat_app_secret
    if not (settings.wechat_app_id and secret):
        raise ValueError(
            "the wechat channel driver needs DEALERFLOW_NOTIFIER_WECHAT_APP_ID and "
            "..._WECHAT_APP_SECRET"
        )
    return WechatTemplateMessages(
        app_id=settings.wechat_app_id,
        app_secret=secret.get_secret_value(),
        templates=settings.wechat_templates,
        fields=settings.wechat_template_fields,
        endpoint=settings.wechat_endpoint or WECHAT_ENDPOINT,
        timeout_s=settings.wechat_timeout_s,
        token_margin_s=settings.wechat_token_margin_s,
    )
