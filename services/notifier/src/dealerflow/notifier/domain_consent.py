"""Consent the customer controls: what the recorded changes say about a purpose and a
channel.

A change is about one purpose (service, marketing) and either one channel or every
channel (``channel`` None). Where changes were recorded they decide, newest first, and win
over the contact snapshots events carry (a snapshot is a copy made when its event was
emitted, a change is what the customer said last); only a purpose and channel without any
recorded change falls back to the snapshot (`decide_send`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, Locale, MessageChannel


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One recorded change: granted or withdrawn, for a purpose and a channel (None:
    every channel), where it came from, who recorded it (None: an event or the
    customer) and when it was made."""

    consent_id: str
    purpose: ConsentPurpose
    channel: MessageChannel | None
    granted: bool
    source: ConsentSource
    changed_at: datetime
    recorded_by: str | None = None


def _newest_first(change: ConsentChange) -> tuple[datetime, bool, str]:
    # at the same instant a channel's own change is more specific than an every-channel one
    return change.changed_at, change.channel is not None, change.consent_id


def current_consents(changes: Iterable[ConsentChange]) -> list[ConsentChange]:
    """The newest change per purpose and channel (every-channel changes under channel
    None), ordered by purpose then channel (every channel first)."""
    newest: dict[tuple[ConsentPurpose, MessageChannel | None], ConsentChange] = {}
    for change in changes:
        key = (change.purpose, change.channel)
        if key not in newest or _newest_first(change) > _newest_first(newest[key]):
            newest[key] = change
    return sorted(
        newest.values(), key=lambda c: (c.purpose.value, "" if c.channel is None else c.channel)
    )


def recorded_consent(
    changes: Iterable[ConsentChange], purpose: ConsentPurpose, channel: MessageChannel
) -> bool | None:
    """Whether the customer's recorded changes allow ``purpose`` messages on ``channel``:
    the newest change for that purpose on that channel or on every channel decides; None
    when nothing was recorded (the contact snapshot decides)."""
    applicable = [
        c for c in changes if c.purpose is purpose and (c.channel is None or c.channel is channel)
    ]
    if not applicable:
        return None
    return max(applicable, key=_newest_first).granted


#: Replies to an SMS that withdraw marketing by SMS (the usual Chinese carrier keywords
#: TD/T/N and 退订, and STOP), compared without case or spaces.
OPT_OUT_REPLIES = frozenset({"TD", "T", "STOP", "退订", "N"})


def is_opt_out_reply(text: str) -> bool:
    """Whether an inbound SMS is an opt-out keyword: the whole text, ignoring case, spaces
    and full-width forms (``" td "``, ``"Stop"``, ``"ＴＤ"``, ``"退 订"``); a keyword inside
    a longer text is not one (it is recorded and ignored)."""
    normalised = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    return normalised in OPT_OUT_REPLIES


# -- unsubscribe links -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnsubscribeTarget:
    """Whom an unsubscribe link opts out of marketing, on which channel."""

    dealer_id: str
    customer_id: uuid.UUID
    channel: MessageChannel


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"dealerflow-unsubscribe-v1\n" + payload, hashlib.sha256).digest()


def unsubscribe_token(secret: bytes, target: UnsubscribeTarget) -> str:
    """The token of a link opting ``target`` out: the dealer, customer and channel
    (base64url) and their HMAC-SHA256 with ``secret``, ``<payload>.<signature>``. It does
    not expire: a link in an old message still works (all it can do is opt that customer
    out of marketing on that channel); changing the secret invalidates every link."""
    payload = f"{target.dealer_id}\n{target.customer_id}\n{target.channel.value}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def verify_unsubscribe_token(secret: bytes, token: str) -> UnsubscribeTarget | None:
    """The target of a token made with ``secret``; None when it is not one (malformed or
    signed otherwise; compared in constant time)."""
    encoded, dot, signature = token.partition(".")
    if not dot:
        return None
    try:
        payload, given = _unb64(encoded), _unb64(signature)
        if not hmac.compare_digest(given, _signature(secret, payload)):
            return None
        dealer_id, customer, channel = payload.decode().split("\n")
        return UnsubscribeTarget(dealer_id, uuid.UUID(customer), MessageChannel(channel))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


_UNSUBSCRIBE_LINE = {
    Locale.ZH_CN: "退订：{url}",
    Locale.EN: "Unsubscribe: {url}",
}


def with_unsubscribe_link(body: str, url: str, locale: Locale) -> str:
    """A marketing message's body with its unsubscribe line, in the message's locale."""
    return f"{body}\n{_UNSUBSCRIBE_LINE[locale].format(url=url)}"
