"""SQL of the customer's sales kept for investigations (`usecases_investigation`), from
the sales topic. Scoped by dealer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from dealerflow.complaints.records import SaleRecord
from dealerflow.contracts.events.sales import ContractSigned, VehicleDelivered
from dealerflow.runtime.batches import columns
from dealerflow.runtime.db import DbConnection


async def record_signed(conn: DbConnection, sales: Sequence[ContractSigned]) -> None:
    """Remember signed contracts with one statement (a delivery seen first keeps its
    vehicle); each contract at most once (`runtime.batches.rounds`)."""
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
        *columns(
            sales,
            "dealer_id contract_id customer_id vehicle.model vehicle.vin price.amount "
            "price.currency consultant_id signed_at",
        ),
    )


async def record_delivered(conn: DbConnection, deliveries: Sequence[VehicleDelivered]) -> None:
    """Remember deliveries with one statement (the vehicle handed over is the one sold;
    the consultant who signed stays the sale's); each contract at most once
    (`runtime.batches.rounds`)."""
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
        *columns(
            deliveries,
            "dealer_id contract_id customer_id model vin consultant_id delivery_id delivered_at",
        ),
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
