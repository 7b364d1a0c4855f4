"""SQL of customer tiers: the facts they are computed from (`tier_facts`) and the tier last
published per customer (`customer_tiers`).

Every statement is scoped by ``dealer_id``. A fact is keyed by the record it came from
(delivery, repair order, referred lead), so a redelivered event counts once and the
writers say whether anything changed.
"""

from __future__ import annotations

import uuid
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
    created = await conn.fetchval(
        """
        INSERT INTO tier_facts (dealer_id, kind, source_id, customer_id, counts_from,
                                amount, currency, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (dealer_id, kind, source_id) DO NOTHING
        RETURNING true
        """,
        dealer_id,
        kind,
        source_id,
        customer_id,
        counts_from,
        amount,
        currency,
        recorded_at,
    )
    return bool(created)


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
    """Everything that counts for the customer's tier (spend of every date: the rules
    apply the window)."""
    rows = await conn.fetch(
        """
        SELECT kind, counts_from, amount, currency FROM tier_facts
        WHERE dealer_id = $1 AND customer_id = $2 AND counts_from IS NOT NULL
        ORDER BY counts_from
        """,
        dealer_id,
        customer_id,
    )
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
    """The customer's known tier, locked for this transaction (created untiered)."""
    await conn.execute(
        """
        INSERT INTO customer_tiers (dealer_id, customer_id) VALUES ($1, $2)
        ON CONFLICT (dealer_id, customer_id) DO NOTHING
        """,
        dealer_id,
        customer_id,
    )
    row = await conn.fetchrow(
        """
        SELECT tier, changed_at, reviewed_at FROM customer_tiers
        WHERE dealer_id = $1 AND customer_id = $2 FOR UPDATE
        """,
        dealer_id,
        customer_id,
    )
    assert row is not None  # inserted above
    return _known(row)


async def known_tier(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> KnownTier | None:
    """The customer's known tier; None for a customer the notifier has no fact of."""
    row = await conn.fetchrow(
        """
        SELECT tier, changed_at, reviewed_at, service_tier, service_tier_changed_at
        FROM customer_tiers WHERE dealer_id = $1 AND customer_id = $2
        """,
        dealer_id,
        customer_id,
    )
    return _known(row) if row else None


async def save_tier(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    tier: CustomerTier | None,
    changed_at: datetime | None,
    reviewed_at: datetime,
) -> None:
    """Store the customer's tier after a review (``changed_at`` of the last change)."""
    await conn.execute(
        """
        UPDATE customer_tiers SET tier = $3, changed_at = $4, reviewed_at = $5
        WHERE dealer_id = $1 AND customer_id = $2
        """,
        dealer_id,
        customer_id,
        tier.value if tier else None,
        changed_at,
        reviewed_at,
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
