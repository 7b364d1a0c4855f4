"""What stays of a customer's complaint data after erasure (PIPL Art. 47, GDPR Art. 17).

The complaint itself is the store's business record and stays: its ids, status, channel,
category, severity, handler, origin (ids and survey score), vehicle, clocks, escalations,
dates and every history entry. What goes is what identifies or describes the person:

- a contact snapshot becomes the contracts' ``erased_contact`` (placeholder name, no
  phone/e-mail/WeChat, no consent), keeping its message locale;
- free text staff or the customer wrote (summary, details, pause reason, the resolution's
  cause, measures and reply, history notes and reasons, a parked trigger's note, comment
  or reasons) becomes :data:`ERASED_TEXT`; text that was never given stays absent.

Every function is idempotent: erased data erases to itself.

Pure: only contracts and the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dealerflow.contracts.contact import ERASED_NAME, ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale
from dealerflow.contracts.events.base import DomainEvent

__all__ = [
    "ERASED_TEXT",
    "erased_contact_of",
    "erased_history_details",
    "erased_resolution",
    "erased_text",
    "erased_trigger",
]

#: What erased free text reads.
ERASED_TEXT = ERASED_NAME

#: History entries whose details hold free text (detail keys), by action.
_HISTORY_TEXT: Mapping[str, tuple[str, ...]] = {
    "customer_informed": ("note",),
    "customer_confirmation": ("note",),
    "paused": ("reason",),
    "reopened": ("reason",),
}

#: Free-text fields of the events a trigger parks (TaskCompleted.note,
#: SurveyResponded.comment) and the list ones (QualityCheckFailed.reasons).
_EVENT_TEXT = ("note", "comment")
_EVENT_TEXT_LISTS = ("reasons",)


def erased_text(text: str | None) -> str | None:
    """Free text after erasure: :data:`ERASED_TEXT`, or None when none was given."""
    return None if text is None else ERASED_TEXT


def erased_contact_of(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The erased contact (JSON) replacing a stored contact snapshot, in its locale (the
    contracts' default when it names none or an unknown one)."""
    try:
        locale = Locale(stored.get("locale", Locale.ZH_CN))
    except ValueError:
        locale = Locale.ZH_CN
    return erased_contact(locale).model_dump(mode="json")


def erased_resolution(resolution: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored resolution after erasure: responsibility, department and handler kept;
    the cause, each measure and the reply to the customer erased."""
    if resolution is None:
        return None
    erased = dict(resolution)
    if erased.get("cause") is not None:
        erased["cause"] = ERASED_TEXT
    if erased.get("resolution") is not None:
        erased["resolution"] = ERASED_TEXT
    measures = erased.get("measures")
    if isinstance(measures, list):
        erased["measures"] = [ERASED_TEXT for _ in measures]
    return erased


def erased_history_details(action: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """A history entry's details after erasure: the note of ``customer_informed`` and
    ``customer_confirmation``, the reason of ``paused`` / ``reopened`` and the resolution
    of ``resolved`` erased; the rest (channels, severities, staff ids, assignment reasons,
    clocks, due times, confirmed or not) kept."""
    erased = dict(details)
    for key in _HISTORY_TEXT.get(action, ()):
        if isinstance(erased.get(key), str):
            erased[key] = ERASED_TEXT
    if action == "resolved" and isinstance(erased.get("resolution"), Mapping):
        erased["resolution"] = erased_resolution(erased["resolution"])
    return erased


def erased_trigger(event: DomainEvent) -> DomainEvent:
    """A parked triggering event after erasure: its contact (if it carries one) erased,
    its note, comment and reasons erased; ids, kind, outcome, score and dates kept, so it
    still opens (or dead-letters) as before, without the person."""
    fields = type(event).model_fields
    update: dict[str, Any] = {}
    contact = getattr(event, "contact", None)
    if isinstance(contact, ContactSnapshot):
        update["contact"] = erased_contact(contact.locale)
    for name in _EVENT_TEXT:
        if name in fields and isinstance(getattr(event, name), str):
            update[name] = ERASED_TEXT
    for name in _EVENT_TEXT_LISTS:
        if name in fields and isinstance(getattr(event, name), list):
            update[name] = [ERASED_TEXT for _ in getattr(event, name)]
    return event.model_copy(update=update)
