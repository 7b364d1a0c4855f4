"""Signing and verifying webhooks per the Standard Webhooks scheme
(https://www.standardwebhooks.com, "Signature scheme"), shared by every service that
POSTs to someone else's URL:

- ``webhook-id``: the delivery's id, the same on every attempt (the receiver's
  idempotency key: a repeat of one delivery is dropped there);
- ``webhook-timestamp``: the attempt's time, integer seconds since the epoch;
- ``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
  the key being the base64 part of the secret ``whsec_<base64>``; a receiver accepts any
  of several space-separated signatures (key rotation).

Implemented with the standard library (``hmac``, ``hashlib``, ``base64``): the PyPI
package ``standardwebhooks`` is not in the workspace's lock file, and the scheme is these
few lines; ``libs/runtime/tests/test_webhooks.py`` checks them against the
specification's published example.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "SECRET_PREFIX",
    "TOLERANCE_S",
    "WebhookVerificationError",
    "secret_key",
    "signature",
    "signed_headers",
    "verify",
]

#: How a Standard Webhooks signing secret starts.
SECRET_PREFIX = "whsec_"
#: How far a ``webhook-timestamp`` may be from the receiver's clock (replay protection).
TOLERANCE_S = 5 * 60


class WebhookVerificationError(ValueError):
    """A webhook whose headers are missing, too old/new, or whose signature is wrong."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook signing secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook signing secret is whsec_ followed by base64") from exc
    if len(key) < 24:
        raise ValueError("a webhook signing key has at least 24 bytes (192 bits)")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value of one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signed_headers(key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt (content type and the three Standard Webhooks ones)."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, msg_id, timestamp, body),
    }


def verify(
    key: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check a received webhook as a receiver does; returns its ``webhook-id``.

    ``headers`` with lower-case names; ``now`` the receiver's time in epoch seconds.
    Raises :class:`WebhookVerificationError` when a header is missing, the timestamp is
    more than ``tolerance_s`` away from ``now``, or no ``v1`` signature matches.
    """
    try:
        msg_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"]
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("missing or malformed webhook headers") from exc
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook timestamp outside the tolerance")
    expected = signature(key, msg_id, timestamp, body)
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate, expected):
            return msg_id
    raise WebhookVerificationError("no matching webhook signature")
