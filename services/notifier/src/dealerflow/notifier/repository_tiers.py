"""SQL of customer tiers: the facts they are computed from (`tier_facts`) and the tier last
published per customer (`customer_tiers`).

Every statement is scoped by ``dealer_id``. A fact is keyed by the record it came from
(delivery, repair order, referred lead), so a redelivered event counts once and the
writers say whether anything changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from dealerflow.contracts.enums import CustomerTier, ServiceTier
from dealerflow.notifier.domain_tiers import ServiceSpend, TierFacts
from dealerflow.runtime.db import DbConnection

PURCHASE = "purchase"
SERVICE_SPEND = "service_spend"
REFERRAL = "referral"


@dataclass(frozen=True, slots=True)
class KnownTier:
    """The tier last published for a customer (None: never tiered) and when."""

    tier: CustomerTier | None
    changed_at: datetime | None
    reviewed_at: datetime | None
    #: the after-sales tier service-center published last (ServiceTierChanged), if any
    service_tier: ServiceTier | None = None
    service_tier_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewFact:
    """A fact to keep (`record_facts`), keyed by the record it comes from."""

    dealer_id: str
    customer_id: uuid.UUID
    kind: str
    source_id: str
    counts_from: datetime | None
    recorded_at: datetime
    amount: Decimal | None = None
    currency: str | None = None


#: a customer of a dealer: (dealer id, customer id)
Customer = tuple[str, uuid.UUID]


async def record_fact(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    kind: str,
    source_id: str,
    counts_from: datetime | None,
    recorded_at: datetime,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> bool:
    """Keep one fact; False when the record it comes from was counted already."""
    fact = NewFact(
        dealer_id, customer_id, kind, source_id, counts_from, recorded_at, amount, currency
    )
    return (await record_facts(conn, [fact]))[0]


async def record_facts(conn: DbConnection, facts: Sequence[NewFact]) -> list[bool]:
    """Keep facts with one statement; per fact False when the record it comes from was
    counted already (or earlier in ``facts``: the first one counts)."""
    if not facts:
        return []
    rows = await conn.fetch(
        """
        INSERT INTO tier_facts (dealer_id, kind, source_id, customer_id, counts_from,
                                amount, currency, recorded_at)
        SELECT f.dealer_id, f.kind, f.source_id, f.customer_id, f.counts_from, f.amount,
               f.currency, f.recorded_at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[],
                    $6::numeric[], $7::text[], $8::timestamptz[])
             WITH ORDINALITY AS f(dealer_id, kind, source_id, customer_id, counts_from,
                                  amount, currency, recorded_at, n)
        ORDER BY f.n
        ON CONFLICT (dealer_id, kind, source_id) DO NOTHING
        RETURNING dealer_id, kind, source_id
        """,
        [f.dealer_id for f in facts],
        [f.kind for f in facts],
        [f.source_id for f in facts],
        [f.customer_id for f in facts],
        [f.counts_from for f in facts],
        [f.amount for f in facts],
        [f.currency for f in facts],
        [f.recorded_at for f in facts],
    )
    created = {(r["dealer_id"], r["kind"], r["source_id"]) for r in rows}
    counted = []
    for f in facts:
        key = (f.dealer_id, f.kind, f.source_id)
        counted.append(key in created)
        created.discard(key)  # a repeat later in ``facts`` was not the one kept
    return counted


async def count_referral(
    conn: DbConnection, dealer_id: str, lead_id: str, converted_at: datetime
) -> uuid.UUID | None:
    """The referred lead ``lead_id`` converted: its referral counts from now on; the
    referrer, or None when the lead named none (or its conversion was counted)."""
    referrer: uuid.UUID | None = await conn.fetchval(
        """
        UPDATE tier_facts SET counts_from = $3
        WHERE dealer_id = $1 AND kind = 'referral' AND source_id = $2 AND counts_from IS NULL
        RETURNING customer_id
        """,
        dealer_id,
        lead_id,
        converted_at,
    )
    return referrer


async def facts_of(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> TierFacts:
    """Everything that counts for the customer's tier (`facts_of_customers` of one)."""
    return (await facts_of_customers(conn, [(dealer_id, customer_id)]))[(dealer_id, customer_id)]


async def facts_of_customers(
    conn: DbConnection, customers: Sequence[Customer]
) -> dict[Customer, TierFacts]:
    """Everything that counts for each customer's tier (spend of every date: the rules
    apply the window), with one statement."""
    rows = await conn.fetch(
        """
        SELECT f.dealer_id, f.customer_id, f.kind, f.counts_from, f.amount, f.currency
        FROM tier_facts f
        JOIN unnest($1::text[], $2::uuid[]) AS c(dealer_id, customer_id)
          ON f.dealer_id = c.dealer_id AND f.customer_id = c.customer_id
        WHERE f.counts_from IS NOT NULL
        ORDER BY f.counts_from
        """,
        [d for d, _ in customers],
        [c for _, c in customers],
    )
    found: dict[Customer, list[asyncpg.Record]] = {c: [] for c in customers}
    for r in rows:
        found[(r["dealer_id"], r["customer_id"])].append(r)
    return {c: _facts(of) for c, of in found.items()}


def _facts(rows: Sequence[asyncpg.Record]) -> TierFacts:
    spend = [
        ServiceSpend(r["counts_from"], r["amount"], r["currency"])
        for r in rows
        if r["kind"] == SERVICE_SPEND and r["amount"] is not None
    ]
    return TierFacts(
        purchases=sum(1 for r in rows if r["kind"] == PURCHASE),
        converted_referrals=sum(1 for r in rows if r["kind"] == REFERRAL),
        spend=tuple(spend),
    )


async def lock_tier(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> KnownTier:
    """The customer's known tier, locked for this transaction (`lock_tiers` of one)."""
    return (await lock_tiers(conn, [(dealer_id, customer_id)]))[(dealer_id, customer_id)]


async def lock_tiers(
    conn: DbConnection, customers: Sequence[Customer]
) -> dict[Customer, KnownTier]:
    """The customers' known tiers, locked for this transaction (created untiered), in
    one order (dealer, customer) whatever the order given, so two transactions locking
    some of the same customers wait for each other instead of deadlocking."""
    dealers, ids = [d for d, _ in customers], [c for _, c in customers]
    await conn.execute(
        """
        INSERT INTO customer_tiers (dealer_id, customer_id)
        SELECT c.dealer_id, c.customer_id FROM unnest($1::text[], $2::uuid[])
             AS c(dealer_id, customer_id)
        ORDER BY c.dealer_id, c.customer_id
        ON CONFLICT (dealer_id, customer_id) DO NOTHING
        """,
        dealers,
        ids,
    )
    rows = await conn.fetch(
        """
        SELECT t.dealer_id, t.customer_id, t.tier, t.changed_at, t.reviewed_at
        FROM customer_tiers t
        JOIN unnest($1::text[], $2::uuid[]) AS c(dealer_id, customer_id)
          ON t.dealer_id = c.dealer_id AND t.customer_id = c.customer_id
        ORDER BY t.dealer_id, t.customer_id
        FOR UPDATE OF t
        """,
        dealers,
        ids,
    )
    return {(r["dealer_id"], r["customer_id"]): _known(r) for r in rows}


async def known_tier(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> KnownTier | None:
    """The customer's known tier; None for a customer the notifier has no fact of."""
    return (await known_tiers(conn, [(dealer_id, customer_id)])).get((dealer_id, customer_id))


async def known_tiers(
    conn: DbConnection, customers: Sequence[Customer]
) -> dict[Customer, KnownTier]:
    """The known tiers of those of ``customers`` the notifier has a fact of, with one
    statement."""
    if not customers:
        return {}
    rows = await conn.fetch(
        """
        SELECT t.dealer_id, t.customer_id, t.tier, t.changed_at, t.reviewed_at,
               t.service_tier, t.service_tier_changed_at
        FROM customer_tiers t
        JOIN unnest($1::text[], $2::uuid[]) AS c(dealer_id, customer_id)
          ON t.dealer_id = c.dealer_id AND t.customer_id = c.customer_id
        """,
        [d for d, _ in customers],
        [c for _, c in customers],
    )
    return {(r["dealer_id"], r["customer_id"]): _known(r) for r in rows}


@dataclass(frozen=True, slots=True)
class ReviewedTier:
    """A customer's tier after a review (``changed_at`` of the last change)."""

    dealer_id: str
    customer_id: uuid.UUID
    tier: CustomerTier | None
    changed_at: datetime | None
    reviewed_at: datetime


async def save_tier(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    tier: CustomerTier | None,
    changed_at: datetime | None,
    reviewed_at: datetime,
) -> None:
    """Store the customer's tier after a review (`save_tiers` of one)."""
    await save_tiers(conn, [ReviewedTier(dealer_id, customer_id, tier, changed_at, reviewed_at)])


async def save_tiers(conn: DbConnection, reviewed: Sequence[ReviewedTier]) -> None:
    """Store the customers' tiers after a review, with one statement."""
    if not reviewed:
        return
    await conn.execute(
        """
        UPDATE customer_tiers t
        SET tier = r.tier, changed_at = r.changed_at, reviewed_at = r.reviewed_at
        FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[])
             AS r(dealer_id, customer_id, tier, changed_at, reviewed_at)
        WHERE t.dealer_id = r.dealer_id AND t.customer_id = r.customer_id
        """,
        [r.dealer_id for r in reviewed],
        [r.customer_id for r in reviewed],
        [r.tier.value if r.tier else None for r in reviewed],
        [r.changed_at for r in reviewed],
        [r.reviewed_at for r in reviewed],
    )


async def save_service_tier(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    tier: ServiceTier,
    visits_12_months: int,
    changed_at: datetime,
) -> bool:
    """Keep the customer's after-sales tier unless a newer one is stored; False then."""
    written = await conn.fetchval(
        """
        INSERT INTO customer_tiers (dealer_id, customer_id, service_tier,
                                    service_visits_12_months, service_tier_changed_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
        SET service_tier = EXCLUDED.service_tier,
            service_visits_12_months = EXCLUDED.service_visits_12_months,
            service_tier_changed_at = EXCLUDED.service_tier_changed_at
        WHERE customer_tiers.service_tier_changed_at IS NULL
           OR customer_tiers.service_tier_changed_at <= EXCLUDED.service_tier_changed_at
        RETURNING true
        """,
        dealer_id,
        customer_id,
        tier.value,
        visits_12_months,
        changed_at,
    )
    return bool(written)


def _known(row: asyncpg.Record) -> KnownTier:
    tier = row["tier"]
    service_tier = row.get("service_tier")
    return KnownTier(
        tier=CustomerTier(tier) if tier else None,
        changed_at=row["changed_at"],
        reviewed_at=row["reviewed_at"],
        service_tier=ServiceTier(service_tier) if service_tier else None,
        service_tier_changed_at=row.get("service_tier_changed_at"),
    )
