"""Request and response bodies of the consent store (/v1/customers/{customer_id}/consents)
and of inbound SMS replies (/v1/inbound/sms)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.contracts.types import DEALER_ID_PATTERN, PhoneE164
from dealerflow.notifier.domain_consent import ConsentChange
from dealerflow.notifier.usecases_consent import CustomerConsents, ReceivedSms
from dealerflow.runtime.pagination import Page
from dealerflow.runtime.request_models import HappenedAt


class ConsentIn(BaseModel):
    """A consent change staff record: what the customer said, in the shop, on the phone
    or on a signed form."""

    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose = Field(description="service or marketing.")
    channel: MessageChannel | None = Field(
        default=None, description="The channel concerned; absent: every channel."
    )
    granted: bool = Field(description="true: consent given; false: withdrawn (opt-out).")
    source: Literal["staff", "customer_request", "form"] = Field(
        default="staff",
        description="How staff learnt it (replies and unsubscribe links record themselves).",
    )


class ConsentOut(BaseModel):
    """One recorded consent change."""

    consent_id: str
    purpose: ConsentPurpose
    channel: MessageChannel | None = Field(description="null: every channel.")
    granted: bool
    source: ConsentSource
    changed_at: datetime
    recorded_by: str | None = Field(
        description="Staff member or client who recorded it; null: from an event or the "
        "customer (reply, link)."
    )

    @classmethod
    def of(cls, change: ConsentChange) -> ConsentOut:
        return cls(
            consent_id=change.consent_id,
            purpose=change.purpose,
            channel=change.channel,
            granted=change.granted,
            source=change.source,
            changed_at=change.changed_at,
            recorded_by=change.recorded_by,
        )


class CustomerConsentsOut(BaseModel):
    """The customer's current consents: the newest change per purpose and channel. A
    purpose and channel not listed is decided by the contact snapshots."""

    dealer_id: str
    customer_id: uuid.UUID
    current: list[ConsentOut]

    @classmethod
    def of(cls, view: CustomerConsents) -> CustomerConsentsOut:
        return cls(
            dealer_id=view.dealer_id,
            customer_id=view.customer_id,
            current=[ConsentOut.of(c) for c in view.current],
        )


class ConsentHistoryPage(Page[ConsentOut]):
    """A page of consent changes, oldest first; pass next_cursor back as cursor."""


class InboundSmsIn(BaseModel):
    """An SMS a customer sent to the dealer's number (the SMS gateway's delivery)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    dealer_id: Annotated[str, StringConstraints(pattern=DEALER_ID_PATTERN)] = Field(
        description="The dealer whose number received it."
    )
    from_phone: PhoneE164 = Field(
        alias="from", description="The sender's number in E.164 form, e.g. +8613800138000."
    )
    text: Annotated[str, StringConstraints(max_length=1000)] = Field(
        description="The text as received; TD, T, STOP, 退订 or N (any case, spaces) opt "
        "the sender out of marketing SMS, anything else is recorded and ignored."
    )
    received_at: HappenedAt = Field(description="When the gateway received it.")


class InboundSmsOut(BaseModel):
    """What the notifier made of an inbound SMS."""

    id: uuid.UUID
    dealer_id: str
    opt_out: bool = Field(description="The text was an opt-out keyword.")
    customer_ids: list[uuid.UUID] = Field(
        description="The customers known with the sender's number (opted out of marketing "
        "SMS when opt_out)."
    )
    received_at: datetime

    @classmethod
    def of(cls, received: ReceivedSms) -> InboundSmsOut:
        return cls(
            id=received.id,
            dealer_id=received.dealer_id,
            opt_out=received.opt_out,
            customer_ids=received.customer_ids,
            received_at=received.received_at,
        )
