"""Request and response bodies of the consent store (/v1/customers/{customer_id}/consents)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.notifier.domain_consent import ConsentChange
from dealerflow.notifier.usecases_consent import CustomerConsents
from dealerflow.runtime.pagination import Page


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
