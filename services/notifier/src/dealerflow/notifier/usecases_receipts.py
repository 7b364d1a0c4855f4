"""Use cases of delivery receipts: a provider's report about messages it accepted.

A receipt names a message by (channel, the id the provider returned when it accepted it,
``notifications.provider_message_id``). NotificationSent was published then (the
provider accepted the message), so a delivered receipt only records ``delivered_at``; a
failed one for a sent message turns it ``failed`` (and its reminder) and publishes
NotificationFailed (final, ``retryable`` false, the error naming the provider's code and
no address). Anything else changes nothing: a receipt repeated or reported after another,
for a message already failed or suppressed, or naming an id we never sent (a message of
another system on the same provider account, or one whose sending transaction has not
committed yet) - counted in ``dealerflow_notifier_receipts``, never an error (providers
retry an error for hours).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from dealerflow.contracts.enums import MessageChannel
from dealerflow.contracts.events.notifier import NotificationFailed
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import repository_receipts as receipts_repo
from dealerflow.notifier.domain_receipts import (
    Receipt,
    ReceiptEffect,
    failure_reason,
    receipt_effect,
    same_secret,
    twilio_signature,
    wechat_signature,
)
from dealerflow.notifier.records import NotificationRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier.receipts")

RECEIPTS = Counter(
    "dealerflow_notifier_receipts",
    "Delivery receipts received, by provider and result (delivered, failed: recorded; "
    "unchanged: repeated or about a message not sent; unknown: an id we never sent; "
    "ignored: an intermediate status)",
    ["provider", "result"],
)


@dataclass(frozen=True, slots=True)
class ReceiptsRecorded:
    """What one push of receipts did."""

    delivered: int = 0
    failed: int = 0
    unchanged: int = 0
    unknown: int = 0


class ReceiptRouteUnknown(Exception):
    """A receipt route that is not configured, or a wrong secret path token (404)."""


class ReceiptSignatureInvalid(Exception):
    """A push whose provider signature does not verify (403)."""


def check_path_token(settings: NotifierSettings, token: str) -> None:
    """The secret path token of the Aliyun and Tencent receipt URLs."""
    expected = settings.receipt_path_token
    if expected is None or not same_secret(token, expected.get_secret_value()):
        raise ReceiptRouteUnknown("no such receipt route")


def check_twilio(
    settings: NotifierSettings, url: str, form: Sequence[tuple[str, str]], signature: str
) -> None:
    """``X-Twilio-Signature`` of a status callback to ``url`` (as Twilio called it)."""
    token = settings.twilio_auth_token
    if token is None:
        raise ReceiptRouteUnknown("Twilio is not configured (twilio_auth_token)")
    if not same_secret(signature, twilio_signature(token.get_secret_value(), url, form)):
        raise ReceiptSignatureInvalid("X-Twilio-Signature does not match this request")


def check_wechat(settings: NotifierSettings, signature: str, timestamp: str, nonce: str) -> None:
    """The ``signature`` query parameter of a WeChat server push or URL check."""
    token = settings.wechat_server_token
    if token is None:
        raise ReceiptRouteUnknown("WeChat pushes are not configured (wechat_server_token)")
    expected = wechat_signature(token.get_secret_value(), timestamp, nonce)
    if not same_secret(signature.lower(), expected):
        raise ReceiptSignatureInvalid("the signature does not match token, timestamp and nonce")


def count_ignored(provider: str, how_many: int = 1) -> None:
    """Count reports that are no receipt (an intermediate status, another event)."""
    RECEIPTS.labels(provider, "ignored").inc(how_many)


async def record_receipts(uc: Uc, receipts: Sequence[Receipt]) -> ReceiptsRecorded:
    """Apply ``receipts`` (any dealers', in order) to the notifications they name."""
    counts = {"delivered": 0, "failed": 0, "unchanged": 0, "unknown": 0}
    found: dict[tuple[str, str], list[NotificationRow]] = {}
    for channel in {r.channel for r in receipts}:
        ids = sorted({r.provider_message_id for r in receipts if r.channel is channel})
        for row in await receipts_repo.notifications_by_provider_id(uc.conn, channel.value, ids):
            assert row.provider_message_id is not None
            found.setdefault((row.channel, row.provider_message_id), []).append(row)
    done: set[tuple[str, str]] = set()  # repeated within this push: the first wins
    for receipt in receipts:
        key = (receipt.channel.value, receipt.provider_message_id)
        rows = found.get(key)
        if not rows:
            result = "unknown"
        elif key in done:
            result = "unchanged"
        else:
            done.add(key)
            result = "unchanged"
            for row in rows:
                effect = receipt_effect(row.status, row.delivered_at, receipt)
                if effect is ReceiptEffect.DELIVERED:
                    await receipts_repo.mark_delivered(uc.conn, row.dealer_id, row.id, uc.now)
                    result = "delivered"
                elif effect is ReceiptEffect.FAILED:
                    await _undelivered(uc, row, receipt)
                    result = "failed"
        counts[result] += 1
        RECEIPTS.labels(receipt.provider, result).inc()
    if counts["unknown"]:
        log.info("%d receipt(s) for messages we did not send", counts["unknown"])
    return ReceiptsRecorded(**counts)


async def _undelivered(uc: Uc, row: NotificationRow, receipt: Receipt) -> None:
    error = failure_reason(receipt)
    now = uc.now
    await receipts_repo.mark_undelivered(uc.conn, row.dealer_id, row.id, error)
    if row.reminder_id is not None:
        await msgs.update_reminder(
            uc.conn, row.dealer_id, row.reminder_id, status="failed", now=now
        )
    if row.audience != "customer":
        return
    await uc.publish(
        NotificationFailed(
            dealer_id=row.dealer_id,
            customer_id=row.customer_id,
            occurred_at=now,
            notification_id=str(row.id),
            reminder_id=str(row.reminder_id) if row.reminder_id is not None else None,
            channel=MessageChannel(row.channel),
            error=error,
            retryable=False,
            attempts=max(row.attempts, 1),
            failed_at=now,
        )
    )
