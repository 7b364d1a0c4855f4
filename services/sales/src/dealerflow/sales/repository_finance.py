"""All SQL of finance's steps on a contract: confirming a payment, the loan decision."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.runtime.db import DbConnection
from dealerflow.sales.domain import CancellationPolicy, CancellationTerms, CancelledBy
from dealerflow.sales.domain_finance import LoanDecision, LoanDecisionKind


async def confirm_payment(
    conn: DbConnection,
    dealer_id: str,
    payment_id: uuid.UUID,
    *,
    confirmed_by: str,
    confirmed_at: datetime,
) -> bool:
    """Mark an unconfirmed payment confirmed; False when it was confirmed already."""
    return bool(
        await conn.fetchval(
            """
            UPDATE payments SET confirmed = true, confirmed_by = $3, confirmed_at = $4
            WHERE dealer_id = $1 AND id = $2 AND NOT confirmed
            RETURNING true
            """,
            dealer_id,
            payment_id,
            confirmed_by,
            confirmed_at,
        )
    )


async def upsert_loan_decision(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID, d: LoanDecision
) -> None:
    """Record the lender's decision; a later decision replaces the earlier one."""
    await conn.execute(
        """
        INSERT INTO loan_approvals (dealer_id, contract_id, lender, decision, reference,
            approved_amount, currency, decided_at, recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (dealer_id, contract_id) DO UPDATE SET lender = EXCLUDED.lender,
            decision = EXCLUDED.decision, reference = EXCLUDED.reference,
            approved_amount = EXCLUDED.approved_amount, currency = EXCLUDED.currency,
            decided_at = EXCLUDED.decided_at, recorded_by = EXCLUDED.recorded_by,
            recorded_at = EXCLUDED.recorded_at
        """,
        dealer_id,
        contract_id,
        d.lender,
        d.decision.value,
        d.reference,
        d.approved_amount,
        d.currency,
        d.decided_at,
        d.recorded_by,
        d.recorded_at,
    )


async def get_loan_decision(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> LoanDecision | None:
    row = await conn.fetchrow(
        "SELECT lender, decision, reference, approved_amount, currency, decided_at,"
        " recorded_by, recorded_at FROM loan_approvals"
        " WHERE dealer_id = $1 AND contract_id = $2",
        dealer_id,
        contract_id,
    )
    if row is None:
        return None
    return LoanDecision(**dict(row) | {"decision": LoanDecisionKind(row["decision"])})


async def insert_cancellation_terms(
    conn: DbConnection,
    dealer_id: str,
    contract_id: uuid.UUID,
    terms: CancellationTerms,
    *,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO contract_cancellations (dealer_id, contract_id, cancelled_by,"
        " non_refundable_costs, forfeit_deposit, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6)",
        dealer_id,
        contract_id,
        terms.cancelled_by.value,
        terms.non_refundable_costs,
        terms.policy.forfeit_deposit_on_customer_cancellation,
        at,
    )


async def get_cancellation_terms(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> CancellationTerms | None:
    """None for a contract not cancelled (or cancelled before migration 0008)."""
    row = await conn.fetchrow(
        "SELECT cancelled_by, non_refundable_costs, forfeit_deposit FROM contract_cancellations"
        " WHERE dealer_id = $1 AND contract_id = $2",
        dealer_id,
        contract_id,
    )
    if row is None:
        return None
    return CancellationTerms(
        CancelledBy(row["cancelled_by"]),
        row["non_refundable_costs"],
        CancellationPolicy(row["forfeit_deposit"]),
    )
