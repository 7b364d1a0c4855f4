"""SQL of the customer's sales kept for investigations (`usecases_investigation`), from
the sales topic. Scoped by dealer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dealerflow.complaints.records import SaleRecord
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class SignedSale:
    """A signed contract as ContractSigned tells it."""

    dealer_id: str
    contract_id: str
    customer_id: uuid.UUID
    model: str
    vin: str | None
    price_amount: Decimal
    price_currency: str
    consultant_id: str
    signed_at: datetime


@dataclass(frozen=True)
class DeliveredSale:
    """A delivery as VehicleDelivered tells it."""

    dealer_id: str
    contract_id: str
    customer_id: uuid.UUID
    delivery_id: str
    model: str
    vin: str
    consultant_id: str
    delivered_at: datetime


async def record_signed(conn: DbConnection, sales: Sequence[SignedSale]) -> None:
    """Remember signed contracts with one statement (a delivery seen first keeps its
    vehicle); each contract at most once (`batches.rounds`)."""
    if not sales:
        return
    await conn.execute(
        """
        INSERT INTO customer_sales (dealer_id, contract_id, customer_id, model, vin,
            price_amount, price_currency, consultant_id, signed_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[],
            $6::numeric[], $7::text[], $8::text[], $9::timestamptz[])
        ON CONFLICT (dealer_id, contract_id) DO UPDATE
            SET model = coalesce(customer_sales.model, EXCLUDED.model),
                vin = coalesce(customer_sales.vin, EXCLUDED.vin),
                price_amount = EXCLUDED.price_amount,
                price_currency = EXCLUDED.price_currency,
                consultant_id = EXCLUDED.consultant_id,
                signed_at = EXCLUDED.signed_at
        """,
        [s.dealer_id for s in sales],
        [s.contract_id for s in sales],
        [s.customer_id for s in sales],
        [s.model for s in sales],
        [s.vin for s in sales],
        [s.price_amount for s in sales],
        [s.price_currency for s in sales],
        [s.consultant_id for s in sales],
        [s.signed_at for s in sales],
    )


async def record_delivered(conn: DbConnection, deliveries: Sequence[DeliveredSale]) -> None:
    """Remember deliveries with one statement (the vehicle handed over is the one sold;
    the consultant who signed stays the sale's); each contract at most once
    (`batches.rounds`)."""
    if not deliveries:
        return
    await conn.execute(
        """
        INSERT INTO customer_sales (dealer_id, contract_id, customer_id, model, vin,
            consultant_id, delivery_id, delivered_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::timestamptz[])
        ON CONFLICT (dealer_id, contract_id) DO UPDATE
            SET model = EXCLUDED.model, vin = EXCLUDED.vin,
                consultant_id = coalesce(customer_sales.consultant_id, EXCLUDED.consultant_id),
                delivery_id = EXCLUDED.delivery_id, delivered_at = EXCLUDED.delivered_at
        """,
        [d.dealer_id for d in deliveries],
        [d.contract_id for d in deliveries],
        [d.customer_id for d in deliveries],
        [d.model for d in deliveries],
        [d.vin for d in deliveries],
        [d.consultant_id for d in deliveries],
        [d.delivery_id for d in deliveries],
        [d.delivered_at for d in deliveries],
    )


async def record_cancelled(
    conn: DbConnection,
    *,
    dealer_id: str,
    contract_id: str,
    customer_id: uuid.UUID,
    cancelled_at: datetime,
) -> None:
    """Mark a sale cancelled (one seen only now is kept with its date alone)."""
    await conn.execute(
        """
        INSERT INTO customer_sales (dealer_id, contract_id, customer_id, cancelled_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, contract_id) DO UPDATE SET cancelled_at = EXCLUDED.cancelled_at
        """,
        dealer_id,
        contract_id,
        customer_id,
        cancelled_at,
    )


async def sales_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[SaleRecord]:
    """The customer's sales at the dealer, oldest first."""
    rows = await conn.fetch(
        """
        SELECT contract_id, model, vin, price_amount, price_currency, consultant_id,
            signed_at, delivery_id, delivered_at, cancelled_at
        FROM customer_sales WHERE dealer_id = $1 AND customer_id = $2
        ORDER BY coalesce(signed_at, delivered_at, cancelled_at), contract_id
        """,
        dealer_id,
        customer_id,
    )
    return [
        SaleRecord(
            contract_id=r["contract_id"],
            model=r["model"],
            vin=r["vin"],
            price_amount=r["price_amount"],
            price_currency=r["price_currency"],
            consultant_id=r["consultant_id"],
            signed_at=r["signed_at"],
            delivery_id=r["delivery_id"],
            delivered_at=r["delivered_at"],
            cancelled_at=r["cancelled_at"],
        )
        for r in rows
    ]
