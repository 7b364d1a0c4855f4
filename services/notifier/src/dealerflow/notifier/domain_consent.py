"""Consent the customer controls: what the recorded changes say about a purpose and a
channel.

A change is about one purpose (service, marketing) and either one channel or every
channel (``channel`` None). Where changes were recorded they decide, newest first, and win
over the contact snapshots events carry (a snapshot is a copy made when its event was
emitted, a change is what the customer said last); only a purpose and channel without any
recorded change falls back to the snapshot (`decide_send`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel


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
