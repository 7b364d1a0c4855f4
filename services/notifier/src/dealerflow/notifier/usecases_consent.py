"""Consent the customer controls: record a change (staff, an inbound SMS reply, an
unsubscribe link) and publish ConsentChanged through the outbox in the same transaction;
keep the ConsentChanged of other systems in the same store. Rules: :mod:`domain_consent`.

Nothing is cancelled when consent changes: every customer message asks the store when it
falls due (`usecases_messages.send_reminder`), so a withdrawal applies at once to
everything scheduled (suppressed with NotificationSuppressed ``opted_out``) and a grant
to everything not sent yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.notifier import repository_consent as repo
from dealerflow.notifier.domain_consent import (
    ConsentChange,
    UnsubscribeTarget,
    current_consents,
    is_opt_out_reply,
    recorded_consent,
    unsubscribe_token,
    verify_unsubscribe_token,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey

Uc = UseCaseContext[NotifierSettings]


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """Record that the customer granted or withdrew consent for a purpose on a channel
    (None: every channel)."""

    dealer_id: str
    customer_id: uuid.UUID
    purpose: ConsentPurpose
    channel: MessageChannel | None
    granted: bool
    source: ConsentSource
    #: the request's Idempotency-Key and body fingerprint (None: not deduplicated)
    request: RequestKey | None = None


@dataclass(frozen=True, slots=True)
class CustomerConsents:
    """The customer's current consents: the newest change per purpose and channel."""

    dealer_id: str
    customer_id: uuid.UUID
    current: list[ConsentChange]


async def record_consent(uc: Uc, cmd: RecordConsent) -> ConsentChange:
    """Keep the change (recorded by the caller, now) and publish ConsentChanged; a retry
    with the same Idempotency-Key gets the first change back."""
    consent_id = uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope=f"consents:{cmd.customer_id}",
        resource_id=consent_id,
    )
    if earlier is not None:
        found = await repo.get_change(uc.conn, cmd.dealer_id, str(earlier))
        if found is None:  # pragma: no cover - the claim commits with its change
            raise RuntimeError(f"consent {earlier} claimed but not recorded")
        return found[1]
    change = ConsentChange(
        consent_id=str(consent_id),
        purpose=cmd.purpose,
        channel=cmd.channel,
        granted=cmd.granted,
        source=cmd.source,
        changed_at=uc.now,
        recorded_by=uc.actor,
    )
    await keep_change(uc, cmd.dealer_id, cmd.customer_id, change, publish=True)
    return change


async def on_consent_changed(
    uc: Uc, dealer_id: str, customer_id: uuid.UUID, change: ConsentChange
) -> None:
    """Another system's ConsentChanged (or our own, read back: kept once)."""
    await keep_change(uc, dealer_id, customer_id, change, publish=False)


async def keep_change(
    uc: Uc, dealer_id: str, customer_id: uuid.UUID, change: ConsentChange, *, publish: bool
) -> bool:
    """Store ``change`` (once per consent id) and, when ``publish``, announce it; whether
    it was new."""
    created = await repo.insert_change(
        uc.conn,
        dealer_id,
        customer_id,
        change,
        source_event_id=uc.source_event_id,
        recorded_at=uc.now,
    )
    if created and publish:
        await uc.publish(
            ConsentChanged(
                dealer_id=dealer_id,
                customer_id=customer_id,
                occurred_at=change.changed_at,
                consent_id=change.consent_id,
                purpose=change.purpose,
                channel=change.channel,
                granted=change.granted,
                source=change.source,
                changed_at=change.changed_at,
            )
        )
    return created


async def consents_of(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> CustomerConsents:
    """The customer's current consents (empty: only the contact snapshots speak)."""
    changes = await repo.changes_of(uc.conn, dealer_id, customer_id)
    return CustomerConsents(dealer_id, customer_id, current_consents(changes))


async def consent_history(
    uc: Uc,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ConsentChange]:
    """The customer's changes, oldest first, after the keyset ``after``."""
    return await repo.history(uc.conn, dealer_id, customer_id, after=after, limit=limit)


async def consent_for(
    uc: Uc,
    dealer_id: str,
    customer_id: uuid.UUID,
    purpose: ConsentPurpose,
    channel: MessageChannel,
) -> bool | None:
    """What the recorded changes say about ``purpose`` messages on ``channel`` now
    (None: nothing recorded, the contact snapshot decides)."""
    changes = await repo.changes_of(uc.conn, dealer_id, customer_id)
    return recorded_consent(changes, purpose, channel)


# -- open complaints: marketing waits while one is open ----------------------------------------


async def on_complaint_opened(
    uc: Uc,
    dealer_id: str,
    customer_id: uuid.UUID,
    complaint_id: str,
    opened_at: datetime,
    *,
    reopening: bool = False,
) -> None:
    """ComplaintOpened / ComplaintReopened: marketing to the customer is suppressed from
    now on (each message when it falls due) until the complaint is closed."""
    await repo.complaint_opened(
        uc.conn, dealer_id, customer_id, complaint_id, opened_at, reopening=reopening
    )


async def on_complaint_closed(
    uc: Uc, dealer_id: str, customer_id: uuid.UUID, complaint_id: str, closed_at: datetime
) -> None:
    """ComplaintClosed: lifts the suppression (when no other complaint is open)."""
    await repo.complaint_closed(uc.conn, dealer_id, customer_id, complaint_id, closed_at)


async def has_open_complaint(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> bool:
    """Whether a complaint of the customer is open at the dealer."""
    return await repo.has_open_complaint(uc.conn, dealer_id, customer_id)


# -- inbound SMS replies ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiveSms:
    """An SMS a customer sent to the dealer's number, as the SMS gateway relays it."""

    dealer_id: str
    phone: str
    text: str
    received_at: datetime
    #: the request's Idempotency-Key and body fingerprint (None: not deduplicated)
    request: RequestKey | None = None


@dataclass(frozen=True, slots=True)
class ReceivedSms:
    """What became of an inbound SMS: an opt-out of the customers known with the phone,
    or only recorded."""

    id: uuid.UUID
    dealer_id: str
    opt_out: bool
    customer_ids: list[uuid.UUID]
    received_at: datetime


async def receive_sms(uc: Uc, cmd: ReceiveSms) -> ReceivedSms:
    """Keep the SMS; an opt-out keyword (`domain_consent.is_opt_out_reply`) withdraws
    marketing by SMS for every customer whose latest contact has the phone, one
    ConsentChanged each (source reply_keyword, changed when it was received). Any other
    text is recorded and ignored. A retry with the same Idempotency-Key changes nothing."""
    sms_id = uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="inbound-sms", resource_id=sms_id
    )
    if earlier is not None:
        found = await repo.get_inbound_sms(uc.conn, cmd.dealer_id, earlier)
        if found is None:  # pragma: no cover - the claim commits with its SMS
            raise RuntimeError(f"inbound SMS {earlier} claimed but not recorded")
        return ReceivedSms(earlier, cmd.dealer_id, *found)
    opt_out = is_opt_out_reply(cmd.text)
    customers = await repo.customers_with_phone(uc.conn, cmd.dealer_id, cmd.phone)
    received_at = min(cmd.received_at, uc.now)  # a gateway clock ahead of ours
    await repo.insert_inbound_sms(
        uc.conn,
        cmd.dealer_id,
        sms_id,
        phone=cmd.phone,
        text=cmd.text,
        opt_out=opt_out,
        customer_ids=customers,
        received_at=received_at,
        recorded_at=uc.now,
    )
    if opt_out:
        for customer_id in customers:
            change = ConsentChange(
                consent_id=str(uuid.uuid5(sms_id, str(customer_id))),
                purpose=ConsentPurpose.MARKETING,
                channel=MessageChannel.SMS,
                granted=False,
                source=ConsentSource.REPLY_KEYWORD,
                changed_at=received_at,
            )
            await keep_change(uc, cmd.dealer_id, customer_id, change, publish=True)
    return ReceivedSms(sms_id, cmd.dealer_id, opt_out, customers, received_at)


# -- unsubscribe links ----------------------------------------------------------------------------


class UnsubscribeLinkInvalid(LookupError):
    """The token of an unsubscribe link is not one of ours (404)."""


def unsubscribe_link(settings: NotifierSettings, target: UnsubscribeTarget) -> str | None:
    """The link a marketing message to ``target`` carries; None without a secret."""
    if settings.unsubscribe_secret is None:
        return None
    token = unsubscribe_token(settings.unsubscribe_secret.get_secret_value().encode(), target)
    return f"{settings.public_base_url.rstrip('/')}/v1/unsubscribe/{token}"


def unsubscribe_target(settings: NotifierSettings, token: str) -> UnsubscribeTarget:
    """Whom the link's ``token`` opts out; raises UnsubscribeLinkInvalid."""
    secret = settings.unsubscribe_secret
    target = verify_unsubscribe_token(secret.get_secret_value().encode(), token) if secret else None
    if target is None:
        raise UnsubscribeLinkInvalid("this unsubscribe link is not valid")
    return target


@dataclass(frozen=True, slots=True)
class UnsubscribePage:
    """What the link's page shows: whom it opts out, the dealer's name, and whether
    marketing on the channel is withdrawn already."""

    target: UnsubscribeTarget
    dealer_name: str
    withdrawn: bool


async def unsubscribe_page(uc: Uc, token: str, *, confirm: bool) -> UnsubscribePage:
    """The link was opened (``confirm`` False: nothing recorded) or confirmed (POST, or a
    one-click POST per RFC 8058: `unsubscribe`); raises UnsubscribeLinkInvalid."""
    target = await unsubscribe(uc, token) if confirm else unsubscribe_target(uc.settings, token)
    dealer = await uc.dealer(target.dealer_id)
    current = await consent_for(
        uc, target.dealer_id, target.customer_id, ConsentPurpose.MARKETING, target.channel
    )
    return UnsubscribePage(target, dealer.display_name(target.dealer_id), current is False)


async def unsubscribe(uc: Uc, token: str) -> UnsubscribeTarget:
    """The customer followed the link (POST, or a one-click POST per RFC 8058): marketing
    on the link's channel is withdrawn (source unsubscribe_link, ConsentChanged) unless
    it is withdrawn already (a repeated click records nothing)."""
    target = unsubscribe_target(uc.settings, token)
    current = await consent_for(
        uc, target.dealer_id, target.customer_id, ConsentPurpose.MARKETING, target.channel
    )
    if current is not False:
        change = ConsentChange(
            consent_id=str(uuid.uuid4()),
            purpose=ConsentPurpose.MARKETING,
            channel=target.channel,
            granted=False,
            source=ConsentSource.UNSUBSCRIBE_LINK,
            changed_at=uc.now,
        )
        await keep_change(uc, target.dealer_id, target.customer_id, change, publish=True)
    return target
