"""SQL of the customer's sales kept for investigations (`usecases_investigation`), from
the sales topic. Scoped by dealer."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from dealerflow.complaints.records import SaleRecord
from dealerflow.runtime.db import DbConnection


async def record_signed(
    conn: DbConnection,
    *,
    dealer_id: str,
    contract_id: str,
    customer_id: uuid.UUID,
    model: str,
    vin: str | None,
    price_amount: Decimal,
    price_currency: str,
    consultant_id: str,
    signed_at: datetime,
) -> None:
    """Remember a signed contract (a delivery seen first keeps its vehicle)."""
    await conn.execute(
        """
        INSERT INTO customer_sales (dealer_id, contract_id, customer_id, model, vin,
            price_amount, price_currency, consultant_id, signed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (dealer_id, contract_id) DO UPDATE
            SET model = coalesce(customer_sales.model, EXCLUDED.model),
                vin = coalesce(customer_sales.vin, EXCLUDED.vin),
                price_amount = EXCLUDED.price_amount,
                price_currency = EXCLUDED.price_currency,
                consultant_id = EXCLUDED.consultant_id,
                signed_at = EXCLUDED.signed_at
        """,
        dealer_id,
        contract_id,
        customer_id,
        model,
        vin,
        price_amount,
        price_currency,
        consultant_id,
        signed_at,
    )


async def record_delivered(
    conn: DbConnection,
    *,
    dealer_id: str,
    contract_id: str,
    customer_id: uuid.UUID,
    delivery_id: str,
    model: str,
    vin: str,
    consultant_id: str,
    delivered_at: datetime,
) -> None:
    """Remember a delivery (the vehicle handed over is the one sold; the consultant who
    signed stays the sale's)."""
    await conn.execute(
        """
        INSERT INTO customer_sales (dealer_id, contract_id, customer_id, model, vin,
            consultant_id, delivery_id, delivered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (dealer_id, contract_id) DO UPDATE
            SET model = EXCLUDED.model, vin = EXCLUDED.vin,
                consultant_id = coalesce(customer_sales.consultant_id, EXCLUDED.consultant_id),
                delivery_id = EXCLUDED.delivery_id, delivered_at = EXCLUDED.delivered_at
        """,
        dealer_id,
        contract_id,
        customer_id,
        model,
        vin,
        consultant_id,
        delivery_id,
        delivered_at,
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
