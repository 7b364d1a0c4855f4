"""Idempotency-Key handling: a retried POST gets the first attempt's result, not a second one.

A request that creates something claims its key, scoped by dealer and by what it does
(``scope``, e.g. ``"contracts"`` or ``"payments:<contract id>"``), in the same
transaction as its effects; the claim commits or rolls back with them. A concurrent
request with the same key waits on the row until the first transaction ends, then sees
its claim (or makes its own if the first rolled back). What a retry gets back:

- the resource the first request created (``resource_id``): the caller reloads it, so a
  retry answers with the resource as it is now (:func:`replayed_resource`), or
- the first response itself (:func:`record_response` after doing the work, replayed
  from :func:`claim`'s result).

A request fingerprint (a hash of the body) tells a retry from a different request that
reuses the key: that raises :class:`IdempotencyKeyReused`, which every service's HTTP
app answers with a 422 problem (``idempotency-key-reused``), as in the IETF
Idempotency-Key draft. A claim without a fingerprint is not compared. Fingerprints come
from a validated body (:func:`request_fingerprint`) or from a command or any JSON-like
value (:func:`fingerprint_of`), so use cases can claim keys without HTTP models.

The table lives in each service's own migrations (it is the service's data)::

    CREATE TABLE idempotency_keys (
        dealer_id    text        NOT NULL,
        scope        text        NOT NULL,
        key          text        NOT NULL,
        request_hash text,                 -- NULL: not compared
        resource_id  text,
        status_code  integer,
        response     jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dealer_id, scope, key)
    );
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header
from pydantic import BaseModel

from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import ProblemSpec

__all__ = [
    "KEY_REUSED_PROBLEM",
    "EarlierRequest",
    "IdempotencyKeyHeader",
    "IdempotencyKeyReused",
    "RequestKey",
    "claim",
    "claimed_resource",
    "fingerprint_of",
    "key_reused",
    "record_response",
    "replayed_resource",
    "request_fingerprint",
    "request_key",
    "request_of",
]


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Retrying with the same key returns the first result instead of "
        "doing the work again.",
    ),
]
"""The ``Idempotency-Key`` request header: ``idempotency_key: IdempotencyKeyHeader = None``."""


@dataclass(frozen=True)
class EarlierRequest:
    """What the first request with a key left behind."""

    resource_id: str | None
    status_code: int | None
    response: Any


@dataclass(frozen=True)
class RequestKey:
    """What a use case gets to deduplicate a request: its key (``request_key``: the
    Idempotency-Key header or the id the client chose) and the fingerprint of what it
    asks (None: not compared)."""

    key: str
    fingerprint: str | None = None


def request_fingerprint(body: BaseModel) -> str:
    """SHA-256 of a validated request body, to tell a retry from a different request."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def fingerprint_of(value: Any) -> str:
    """SHA-256 of a command (dataclass) or JSON-like value, keys sorted: the fingerprint
    of a request that reached the use case as a command rather than an HTTP model."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_key(header: str | None, client_id: uuid.UUID | None) -> str | None:
    """The key of a create request: its ``Idempotency-Key`` header when given, else the
    id the client chose for the new resource (a retry sends the same id), else None."""
    if header:
        return f"key:{header}"
    return f"id:{client_id}" if client_id is not None else None


class IdempotencyKeyReused(ValueError):
    """An Idempotency-Key (or client-chosen id) already used for a different request."""

    def __init__(self, key: str, scope: str) -> None:
        super().__init__(f"key {key!r} was already used for a different {scope} request")
        self.key = key
        self.scope = scope


#: How every service's HTTP app answers :class:`IdempotencyKeyReused`.
KEY_REUSED_PROBLEM = ProblemSpec(422, "idempotency-key-reused", "Idempotency key reused")


def request_of(
    idempotency_key: str | None, body: BaseModel, client_id: uuid.UUID | None = None
) -> RequestKey | None:
    """How an HTTP request is recognised when retried: its Idempotency-Key header (else
    the id the client chose for the new resource) with its validated body's fingerprint;
    None when it has neither (every such request is a new one)."""
    key = request_key(idempotency_key, client_id)
    return None if key is None else RequestKey(key, request_fingerprint(body))


def key_reused(key: str, scope: str) -> IdempotencyKeyReused:
    """The error for ``key`` already used for a different request in ``scope``."""
    return IdempotencyKeyReused(key, scope)


async def claim(
    conn: DbConnection,
    *,
    dealer_id: str,
    scope: str,
    key: str,
    fingerprint: str | None,
    resource_id: str | None = None,
) -> EarlierRequest | None:
    """Claim ``key`` in the caller's transaction: None when this request is the first
    (go on and do the work), else what the first one stored. Raises :func:`key_reused`
    when both requests have a fingerprint and they differ."""
    inserted = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (dealer_id, scope, key, request_hash, resource_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dealer_id, scope, key) DO NOTHING
        RETURNING true
        """,
        dealer_id,
        scope,
        key,
        fingerprint,
        resource_id,
    )
    if inserted:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, resource_id, status_code, response::text AS response"
        " FROM idempotency_keys WHERE dealer_id = $1 AND scope = $2 AND key = $3",
        dealer_id,
        scope,
        key,
    )
    if row is None:  # pragma: no cover - the conflicting row cannot vanish after commit
        raise RuntimeError(f"idempotency key {key!r} conflicted with no visible row")
    earlier_hash = row["request_hash"]
    if fingerprint is not None and earlier_hash is not None and earlier_hash != fingerprint:
        raise key_reused(key, scope)
    return EarlierRequest(
        resource_id=row["resource_id"],
        status_code=row["status_code"],
        response=json.loads(row["response"]) if row["response"] is not None else None,
    )


async def record_response(
    conn: DbConnection, *, dealer_id: str, scope: str, key: str, status_code: int, response: Any
) -> None:
    """Store the response of the request that claimed ``key`` (JSON-serialisable), for
    its retries to get back."""
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $4, response = $5::jsonb"
        " WHERE dealer_id = $1 AND scope = $2 AND key = $3",
        dealer_id,
        scope,
        key,
        status_code,
        json.dumps(response),
    )


async def claimed_resource(
    conn: DbConnection,
    request: RequestKey | None,
    *,
    dealer_id: str,
    scope: str,
    resource_id: uuid.UUID,
) -> uuid.UUID | None:
    """The resource an earlier request with ``request``'s key was about (the caller
    answers with it and does nothing), else None after claiming the key for
    ``resource_id`` in this transaction. No request key: nothing to deduplicate. The same
    key with another fingerprint raises :class:`IdempotencyKeyReused`."""
    if request is None:
        return None
    earlier = await claim(
        conn,
        dealer_id=dealer_id,
        scope=scope,
        key=request.key,
        fingerprint=request.fingerprint,
        resource_id=str(resource_id),
    )
    if earlier is None:
        return None
    if earlier.resource_id is None:  # the scope's other callers store responses instead
        raise RuntimeError(f"idempotency scope {scope!r} mixes resources and responses")
    return uuid.UUID(earlier.resource_id)


async def replayed_resource(
    conn: DbConnection,
    *,
    dealer_id: str,
    scope: str,
    key: str | None,
    body: BaseModel | None = None,
    resource_id: uuid.UUID,
    fingerprint: str | None = None,
) -> uuid.UUID | None:
    """:func:`claimed_resource` for a key and a validated ``body`` (or a ``fingerprint``
    the caller computed, e.g. :func:`fingerprint_of` a command)."""
    if key is None:
        return None
    if fingerprint is None and body is not None:
        fingerprint = request_fingerprint(body)
    return await claimed_resource(
        conn,
        RequestKey(key, fingerprint),
        dealer_id=dealer_id,
        scope=scope,
        resource_id=resource_id,
    )
