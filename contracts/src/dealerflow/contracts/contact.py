"""The contact snapshot: everything a reactor needs to reach a customer without asking
another service. Carried by every event that starts care for a person."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from dealerflow.contracts.care_enums import RecordKind
from dealerflow.contracts.enums import ConsentPurpose, ContactChannel, Locale, MessageChannel
from dealerflow.contracts.types import EmailAddress, EntityId, PhoneE164, Trimmed

__all__ = [
    "ERASED_NAME",
    "ConsentSnapshot",
    "ContactSnapshot",
    "RelatedRecord",
    "erased_contact",
    "with_consent_change",
]

PersonName = Annotated[str, Trimmed(max_length=100)]

# A contact is reachable through at least one of these, unless it was erased (then none
# is left); the schema says so with an anyOf of "present and not null, not erased" per
# field, or "erased": true with all three null.
_REACH_FIELDS = ("phone", "email", "wechat_openid")


def _present(name: str) -> JsonValue:
    return {
        "required": [name],
        "properties": {name: {"not": {"type": "null"}}, "erased": {"const": False}},
    }


_ERASED: JsonValue = {
    "required": ["erased"],
    "properties": {"erased": {"const": True}, **{name: {"type": "null"} for name in _REACH_FIELDS}},
}

_REACHABLE_OR_ERASED: list[JsonValue] = [*(_present(name) for name in _REACH_FIELDS), _ERASED]

#: The name an erased contact carries.
ERASED_NAME = "(erased)"


class ConsentSnapshot(BaseModel):
    """Consent per purpose as known when the event was emitted. Service messages
    (reminders, callbacks about the customer's own vehicle) and marketing (greetings,
    offers) are consented to separately; channels the customer opted out of are listed."""

    model_config = ConfigDict(frozen=True)

    service: bool = Field(
        description="The customer agrees to service contact about their own vehicle/order."
    )
    marketing: bool = Field(description="The customer agrees to marketing contact.")
    opted_out_channels: list[MessageChannel] = Field(
        default_factory=list,
        description="Message channels the customer opted out of for every purpose.",
    )


class ContactSnapshot(BaseModel):
    """How to reach the customer: name, E.164 phone, e-mail and/or WeChat OpenID (at least
    one of the three), preferred channel, consent per purpose and message locale. A
    snapshot, not a live record: newer events and `ConsentChanged` supersede it."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "anyOf": _REACHABLE_OR_ERASED,
        },
    )

    name: PersonName = Field(description="Customer's name as they want to be addressed.")
    phone: PhoneE164 | None = Field(
        default=None, description="Mobile or landline number in E.164 form, e.g. +8613800138000."
    )
    email: EmailAddress | None = Field(default=None, description="E-mail address, if known.")
    wechat_openid: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="WeChat OpenID for WeChat messages, if bound."
    )
    preferred_channel: ContactChannel = Field(
        default=ContactChannel.PHONE, description="Channel the customer prefers to be reached by."
    )
    consent: ConsentSnapshot = Field(description="Consent per purpose at the time of the event.")
    locale: Locale = Field(
        default=Locale.ZH_CN, description="Language the customer wants messages in."
    )

    erased: bool = Field(
        default=False,
        description="True when the customer's personal data was erased on their request "
        "(PIPL Art. 47 / GDPR Art. 17): the name is a placeholder, no way to reach them is "
        "left and no consent is given.",
    )

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.erased:
            if any(getattr(self, name) is not None for name in _REACH_FIELDS):
                raise ValueError("an erased contact keeps no phone, email or wechat_openid")
            return self
        if all(getattr(self, name) is None for name in _REACH_FIELDS):
            raise ValueError("contact needs at least one of phone, email or wechat_openid")
        return self


def erased_contact(locale: Locale = Locale.ZH_CN) -> ContactSnapshot:
    """What stays of a contact after erasure: a placeholder name, no way to reach the
    person, no consent for any purpose, and the message locale (not personal)."""
    return ContactSnapshot(
        name=ERASED_NAME,
        consent=ConsentSnapshot(
            service=False, marketing=False, opted_out_channels=list(MessageChannel)
        ),
        locale=locale,
        erased=True,
    )


class RelatedRecord(BaseModel):
    """A reference to the business record something is about, e.g. the repair order a
    callback task follows up."""

    model_config = ConfigDict(frozen=True)

    kind: RecordKind = Field(description="Kind of record.")
    id: EntityId = Field(description="Identifier of the record in its owning service.")


def with_consent_change(
    contact: ContactSnapshot,
    *,
    purpose: ConsentPurpose,
    channel: MessageChannel | None,
    granted: bool,
) -> ContactSnapshot:
    """A stored snapshot with a ConsentChanged applied (every service that keeps contact
    snapshots refreshes them with it). The snapshot has consent per purpose and opted-out
    channels for every purpose, so a per-channel withdrawal is kept as an opt-out of that
    channel (the cautious reading); a per-channel grant lifts it."""
    consent = contact.consent.model_dump()
    opted_out = [c for c in contact.consent.opted_out_channels if c != channel]
    if channel is None:
        consent[purpose.value] = granted
    elif granted:
        consent[purpose.value] = True
    else:
        opted_out.append(channel)
    consent["opted_out_channels"] = opted_out
    return contact.model_copy(update={"consent": ConsentSnapshot.model_validate(consent)})
