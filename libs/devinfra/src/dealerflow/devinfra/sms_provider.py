"""A local SMS provider for tests: an HTTP server that answers like the provider and
VERIFIES each request's signature the way the provider does (recomputed from what
arrived). The notifier's SMS driver tests and the end-to-end notifier journey use it.

``serving_provider()`` starts the server on a free port; set ``Provider.check`` to a
checker (:func:`aliyun_check`, or a test's own) and point the driver's ``sms_endpoint`` at
``Provider.url``. Each request is kept in ``Provider.received`` with its arrival time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from dealerflow.devinfra.local_http import JsonHandler, serving

__all__ = [
    "ALIYUN_ID",
    "ALIYUN_SECRET",
    "Answer",
    "Provider",
    "Received",
    "aliyun_check",
    "aliyun_form",
    "serving_provider",
]

#: Test credentials of the Aliyun fake (the driver signs with them, the fake checks).
ALIYUN_ID, ALIYUN_SECRET = "LTAI5tExampleKeyId", "ExampleAccessKeySecret0123456789"


@dataclass(frozen=True)
class Received:
    """One request as it arrived (headers lower-cased), and when (wall clock)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Answer = tuple[int, dict[str, Any]]


@dataclass
class Provider:
    """A local provider: ``check`` verifies each request and answers (status, JSON)."""

    url: str
    check: Callable[[Received], Answer]
    received: list[Received] = field(default_factory=list)
    answer_next: Answer | None = None  # a canned answer for the next valid request
    #: What ``check`` answered, in order (status, JSON), beside ``received``.
    answered: list[Answer] = field(default_factory=list)


@contextmanager
def serving_provider() -> Iterator[Provider]:
    """A provider on 127.0.0.1 (a free port) for the ``with`` block; answers 500 until
    ``check`` is set."""
    box = Provider(url="", check=lambda r: (500, {}))

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            request = Received("POST", self.path, self.lower_headers(), self.body())
            box.received.append(request)
            status, answer = box.check(request)
            if status < 300 and box.answer_next is not None:
                status, answer = box.answer_next
            box.answered.append((status, answer))
            self.reply(status, answer)

    with serving(Handler) as url:
        box.url = url
        yield box


def aliyun_form(request: Received) -> dict[str, str]:
    """The form fields of an Aliyun RPC request."""
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def aliyun_check(
    nonces: set[str], *, key_id: str = ALIYUN_ID, key_secret: str = ALIYUN_SECRET
) -> Callable[[Received], Answer]:
    """Alibaba Cloud's RPC check: the form's Signature must be base64(HMAC-SHA1(secret&,
    "POST&%2F&" + enc(sorted enc(k)=enc(v) joined by &))), the nonce fresh, the
    timestamp within 15 minutes."""

    def enc(value: str) -> str:
        return quote(value, safe="-_.~")

    def check(request: Received) -> Answer:
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        form = aliyun_form(request)
        given = form.pop("Signature", "")
        canonical = "&".join(f"{enc(k)}={enc(form[k])}" for k in sorted(form))
        to_sign = "POST&%2F&" + enc(canonical)
        key = f"{key_secret}&".encode()
        expected = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest())
        request_id = str(uuid.uuid4())
        if form.get("AccessKeyId") != key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "RequestId": request_id}
        if not hmac.compare_digest(given.encode(), expected):
            message = f"Specified signature is not matched. StringToSign: {to_sign}"
            return 400, {"Code": "SignatureDoesNotMatch", "Message": message}
        if form["SignatureNonce"] in nonces:
            return 400, {"Code": "SignatureNonceUsed", "Message": "nonce used"}
        nonces.add(form["SignatureNonce"])
        at = datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(at.timestamp() - time.time()) > 900:
            return 400, {"Code": "InvalidTimeStamp.Expired", "Message": "expired"}
        assert (form["Action"], form["Version"]) == ("SendSms", "2017-05-25")
        assert (form["SignatureMethod"], form["SignatureVersion"]) == ("HMAC-SHA1", "1.0")
        if not form["PhoneNumbers"].lstrip("+").isdigit():
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        return 200, {"Code": "OK", "Message": "OK", "BizId": "9006197469364984^0"}

    return check
