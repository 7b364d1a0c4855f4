"""Contact policy: may this customer message go out now, later, or not at all?

Asked when a reminder falls due (and again when a deferred one falls due), so an opt-out
recorded in the meantime stops it immediately.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dealerflow.contracts.care_enums import SuppressionPolicy
from dealerflow.contracts.contact import ConsentSnapshot
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.policy import BusinessCalendar, DealerPolicy


class SendVerdict(StrEnum):
    """What to do with a due customer message."""

    SEND = "send"
    DEFER = "defer"
    SUPPRESS = "suppress"


@dataclass(frozen=True, slots=True)
class SendDecision:
    """The verdict; `deferred_until` is set for DEFER, `suppressed_by` for SUPPRESS."""

    verdict: SendVerdict
    deferred_until: datetime | None = None
    suppressed_by: SuppressionPolicy | None = None

    @property
    def allowed(self) -> bool:
        """True when the message may be sent now."""
        return self.verdict is SendVerdict.SEND

    @classmethod
    def send(cls) -> SendDecision:
        return cls(SendVerdict.SEND)

    @classmethod
    def defer(cls, until: datetime) -> SendDecision:
        return cls(SendVerdict.DEFER, deferred_until=until)

    @classmethod
    def suppress(cls, policy: SuppressionPolicy) -> SendDecision:
        return cls(SendVerdict.SUPPRESS, suppressed_by=policy)


def decide_send(
    *,
    key: str,
    purpose: ConsentPurpose,
    channel: MessageChannel,
    consent: ConsentSnapshot,
    marketing_sent_in_window: int,
    already_sent_keys: Collection[str],
    now: datetime,
    policy: DealerPolicy,
    has_address: bool = True,
    invitation_declined: bool = False,
    open_complaint: bool = False,
    recorded_consent: bool | None = None,
) -> SendDecision:
    """Apply the contact policy to one due message, most final reason first.

    - the same reminder key is never sent twice (DUPLICATE);
    - the consent store decides first (``recorded_consent``, `domain_consent.recorded_consent`:
      the newest change recorded for this purpose on this channel or on every channel);
      a withdrawal stops it at once (OPTED_OUT) and a grant wins over the snapshot; only
      without a recorded change does the contact snapshot speak: a channel the customer
      opted out of, or a purpose without consent, stops it (OPTED_OUT, NO_CONSENT);
    - a missing address for the channel stops it (NO_CONTACT_ADDRESS);
    - marketing is also stopped after a declined invitation (the handbook: never pitch to
      a customer who declined), while a complaint is open, and once
      `contact.marketing_cap` marketing messages went out in the rolling
      `contact.marketing_cap_window` (`marketing_sent_in_window`, counted by the caller);
    - otherwise quiet hours defer it to their end (dealer local time).
    """
    if key in already_sent_keys:
        return SendDecision.suppress(SuppressionPolicy.DUPLICATE)
    if recorded_consent is False:
        return SendDecision.suppress(SuppressionPolicy.OPTED_OUT)
    if recorded_consent is None:
        if channel in consent.opted_out_channels:
            return SendDecision.suppress(SuppressionPolicy.OPTED_OUT)
        consented = consent.marketing if purpose is ConsentPurpose.MARKETING else consent.service
        if not consented:
            return SendDecision.suppress(SuppressionPolicy.NO_CONSENT)
    if not has_address:
        return SendDecision.suppress(SuppressionPolicy.NO_CONTACT_ADDRESS)
    if purpose is ConsentPurpose.MARKETING:
        if invitation_declined:
            return SendDecision.suppress(SuppressionPolicy.INVITATION_DECLINED)
        if open_complaint:
            return SendDecision.suppress(SuppressionPolicy.OPEN_COMPLAINT)
        if marketing_sent_in_window >= policy.contact.marketing_cap:
            return SendDecision.suppress(SuppressionPolicy.MARKETING_CAP)
    allowed_at = BusinessCalendar(policy).next_allowed_send_time(now)
    if allowed_at > now.astimezone(UTC):
        return SendDecision.defer(allowed_at)
    return SendDecision.send()


def channels_for_purpose(policy: DealerPolicy, purpose: ConsentPurpose) -> list[str]:
    """The dealer's channels (``contact.channels``, in their order) a message of
    ``purpose`` may use: all for service; for marketing only those also in
    ``contact.marketing_channels`` (WeChat's template-message rules forbid marketing, so
    the default is sms and email). Empty: the marketing message has no channel and is
    suppressed (NO_MARKETING_CHANNEL)."""
    contact = policy.contact
    if purpose is not ConsentPurpose.MARKETING:
        return list(contact.channels)
    return [c for c in contact.channels if c in contact.marketing_channels]


#: Reasons that stop a message on one channel only: another channel may still carry it.
CHANNEL_REASONS = frozenset(
    {
        SuppressionPolicy.OPTED_OUT,
        SuppressionPolicy.NO_CONSENT,
        SuppressionPolicy.NO_CONTACT_ADDRESS,
    }
)


def first_open_channel(
    candidates: Sequence[MessageChannel], decide: Callable[[MessageChannel], SendDecision]
) -> tuple[MessageChannel, SendDecision]:
    """Channel fallback: the first of ``candidates`` (the customer's channel first, then
    the dealer's ``channel_order``) whose decision (``decide``: `decide_send` on that
    channel, with that channel's address and recorded consent) is not stopped by a
    reason of the channel (:data:`CHANNEL_REASONS`: opted out of it, no consent on it, no
    address on it). A send, a deferral (quiet hours) or any other suppression (duplicate,
    marketing cap, ...) is the same on every channel and answers at once. No channel
    left: the first channel's suppression, reason unchanged."""
    if not candidates:
        raise ValueError("no channel to decide on")
    first: tuple[MessageChannel, SendDecision] | None = None
    for channel in candidates:
        decision = decide(channel)
        if decision.suppressed_by not in CHANNEL_REASONS:
            return channel, decision
        first = first or (channel, decision)
    assert first is not None
    return first
