"""What stays of a customer's messages, reminders and tasks after erasure (PIPL Art. 47,
GDPR Art. 17).

The records stay (ids, kinds, statuses, channels, dates, attempts, outcomes, assignees,
related records); what identifies or describes the person goes:

- a contact snapshot becomes the contracts' ``erased_contact`` (placeholder name, no
  phone/e-mail/WeChat, no consent), keeping its message locale;
- free text (a task's note, a message's subject and body) becomes :data:`ERASED_TEXT`;
  text that was never given stays absent;
- the customer's name, phone number, e-mail address, WeChat OpenID or a message address
  copied into a text the service generated (a task's title or script, a delivery error)
  is replaced by :data:`ERASED_TEXT` there (:func:`personal_strings`, :func:`scrubbed`);
- a reminder's template parameters keep the dates and numbers (:data:`KEPT_PARAMS`); any
  other (an appointment location, a free-text update, a personal link) is erased.

Every function is idempotent: erased data erases to itself.

Pure: only contracts and the standard library.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, overload

from dealerflow.contracts.contact import ERASED_NAME, ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale

__all__ = [
    "ERASED_TEXT",
    "ERASURE_POLICY",
    "KEPT_PARAMS",
    "NOT_SENT",
    "erased_contact_of",
    "erased_params",
    "erased_text",
    "personal_strings",
    "scrubbed",
]

#: What erased free text reads.
ERASED_TEXT = ERASED_NAME

#: The policy a message not delivered yet when its customer was erased is suppressed by.
ERASURE_POLICY = "customer_erased"
#: What such a message's error says.
NOT_SENT = "not sent: the customer's personal data was erased"

#: Reminder template parameters that say nothing about the person (dates, numbers, the
#: store's name, a complaint reference).
KEPT_PARAMS = frozenset(
    {
        "appointment_time",
        "due_date",
        "due_km",
        "renewal_date",
        "complaint_ref",
        "dealer_name",
        "inspection_date",
        "registered_on",
    }
)

# Shorter strings (one character of a name) would erase ordinary words.
_SHORTEST_PERSONAL = 2
_CN_PREFIX = "+86"


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


def erased_params(params: Mapping[str, str]) -> dict[str, str]:
    """A reminder's template parameters after erasure (see :data:`KEPT_PARAMS`)."""
    return {key: value if key in KEPT_PARAMS else ERASED_TEXT for key, value in params.items()}


def personal_strings(
    contacts: Iterable[ContactSnapshot], addresses: Iterable[str | None] = ()
) -> frozenset[str]:
    """What identifies the person in a text: the names, phone numbers (also as dialled
    in China, without +86), e-mail addresses and WeChat OpenIDs of ``contacts`` and the
    message ``addresses`` used; erased placeholders and single characters left out."""
    found: set[str] = set()
    for contact in contacts:
        if contact.erased:
            continue
        found.update(
            value
            for value in (contact.name, contact.phone, contact.email, contact.wechat_openid)
            if value
        )
        if contact.phone and contact.phone.startswith(_CN_PREFIX):
            found.add(contact.phone.removeprefix(_CN_PREFIX))
    found.update(address for address in addresses if address)
    found.discard(ERASED_TEXT)
    return frozenset(value for value in found if len(value) >= _SHORTEST_PERSONAL)


@overload
def scrubbed(text: str, personal: Collection[str]) -> str: ...
@overload
def scrubbed(text: None, personal: Collection[str]) -> None: ...
@overload
def scrubbed(text: str | None, personal: Collection[str]) -> str | None: ...
def scrubbed(text: str | None, personal: Collection[str]) -> str | None:
    """``text`` with every one of the ``personal`` strings in it replaced by
    :data:`ERASED_TEXT` (the longest first, so a phone number goes before the digits it
    contains)."""
    if text is None:
        return None
    for value in sorted(personal, key=len, reverse=True):
        text = text.replace(value, ERASED_TEXT)
    return text
