"""Customer identity that every service and outside system can compute without a call.

Rule (v1, stable - changing it would split every customer in two):

    customer_id = UUIDv5(CUSTOMER_NAMESPACE, "<dealer_group>:<E.164 phone>")

where `dealer_group` is the group code trimmed and lower-cased, and the phone number is the
E.164 form (see `normalize_phone`). A person first seen without a phone number uses
"<dealer_group>:mailto:<lower-cased e-mail>" instead. Once assigned, a customer's id never
changes, even if the phone number does: the owning service keeps it and later events carry it.
"""

from __future__ import annotations

import re
import uuid

import phonenumbers

__all__ = [
    "CUSTOMER_NAMESPACE",
    "InvalidPhoneNumber",
    "customer_id_for",
    "customer_id_for_email",
    "customer_identity",
    "house_customer_id",
    "normalize_phone",
]

CUSTOMER_NAMESPACE = uuid.UUID("5b0f3c1e-2d7a-5c4e-9a61-6d65616c6572")
"""Fixed namespace of dealerflow customer ids. Never change it."""

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be read as a valid number of any region."""


def _group(dealer_group: str) -> str:
    group = dealer_group.strip().lower()
    if not group or ":" in group:
        raise ValueError(f"invalid dealer group {dealer_group!r}")
    return group


def customer_id_for(dealer_group: str, phone_e164: str) -> uuid.UUID:
    """Customer id of a person first seen by phone: UUIDv5 of the dealerflow namespace and
    "<dealer_group>:<E.164 phone>" (group trimmed and lower-cased)."""
    if not _E164.fullmatch(phone_e164):
        raise InvalidPhoneNumber(
            f"{phone_e164!r} is not E.164; normalise it with normalize_phone first"
        )
    return uuid.uuid5(CUSTOMER_NAMESPACE, f"{_group(dealer_group)}:{phone_e164}")


def customer_id_for_email(dealer_group: str, email: str) -> uuid.UUID:
    """Customer id of a person first seen without a phone number, by e-mail address."""
    address = email.strip().lower()
    if "@" not in address:
        raise ValueError(f"{email!r} is not an e-mail address")
    return uuid.uuid5(CUSTOMER_NAMESPACE, f"{_group(dealer_group)}:mailto:{address}")


def house_customer_id(dealer_id: str) -> uuid.UUID:
    """The dealer's own pseudo-customer, for events about no person (e.g. PartStockLow from
    a stock count): UUIDv5 of the namespace and "dealer:<dealer_id>"."""
    return uuid.uuid5(CUSTOMER_NAMESPACE, f"dealer:{dealer_id}")


def normalize_phone(raw: str, default_region: str = "CN") -> str:
    """Return `raw` in E.164 form ("138 0013 8000" -> "+8613800138000").

    Numbers without a country code are read in `default_region`; "+" and "00" prefixes
    select the country. Raises InvalidPhoneNumber when the result is not a valid number.
    """
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"cannot parse phone number {raw!r}: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    result: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return result


def customer_identity(
    dealer_group: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    default_region: str = "CN",
    customer_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str | None]:
    """``(customer id, E.164 phone or None)`` of a person given by phone and/or e-mail.

    The phone is normalised (``normalize_phone``, raising ``InvalidPhoneNumber``); the id
    is ``customer_id`` when the caller knows it, else the identity rule: by phone
    (``customer_id_for``), or by e-mail for someone without one (``customer_id_for_email``).
    Raises ValueError when neither a phone nor an e-mail address is given.
    """
    phone_e164 = normalize_phone(phone, default_region) if phone is not None else None
    if customer_id is not None:
        return customer_id, phone_e164
    if phone_e164 is not None:
        return customer_id_for(dealer_group, phone_e164), phone_e164
    if email is not None:
        return customer_id_for_email(dealer_group, email), None
    raise ValueError("a customer needs a phone number or an e-mail address")
