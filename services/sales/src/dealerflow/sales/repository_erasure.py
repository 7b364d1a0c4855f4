"""SQL of a customer's erasure (:mod:`usecases_erasure`): anonymise what sales holds about
one customer at one store and keep the business records.

Every statement is scoped by ``dealer_id = $1`` and the customer (``customer_id = $2``,
directly or through the customer's contracts) and changes only rows that still hold
something to erase, so a second run changes nothing and counts 0. Each returns the
number of rows it changed.
"""

from __future__ import annotations

import uuid

from dealerflow.contracts.contact import ERASED_NAME, erased_contact
from dealerflow.runtime.db import DbConnection
from dealerflow.sales.repository import to_json

#: What erased free text and names become where the column needs a value.
ERASED_TEXT = ERASED_NAME

# The erased contact ($3) in the stored contact's locale (not personal: the language
# messages would be in), the default locale when an old row has none.
_ERASED_CONTACT = (
    "$3::jsonb"
    " || jsonb_build_object('locale', COALESCE(contact -> 'locale', $3::jsonb -> 'locale'))"
)
_NOT_ERASED = "contact ->> 'erased' IS DISTINCT FROM 'true'"


def _of_the_customers_contracts(alias: str) -> str:
    """The rows ``alias`` of a contract's table that belong to the customer's contracts."""
    return (
        "FROM contracts c WHERE c.dealer_id = $1 AND c.customer_id = $2"
        f" AND {alias}.dealer_id = c.dealer_id AND {alias}.contract_id = c.id"
    )


async def _update(conn: DbConnection, sql: str, *args: object) -> int:
    """Run an UPDATE; the number of rows it changed (from its status, ``UPDATE 3``)."""
    status = await conn.execute(sql, *args)
    return int(status.rsplit(" ", 1)[-1])


async def erase_contracts(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The buyer's contact, address and the cancellation reason staff wrote."""
    return await _update(
        conn,
        f"""
        UPDATE contracts
        SET contact = {_ERASED_CONTACT}, address = $4,
            cancel_reason = CASE WHEN cancel_reason IS NULL THEN NULL ELSE $4 END
        WHERE dealer_id = $1 AND customer_id = $2
          AND ({_NOT_ERASED} OR address <> $4 OR cancel_reason <> $4)
        """,
        dealer_id,
        customer_id,
        to_json(erased_contact()),
        ERASED_TEXT,
    )


async def erase_contract_versions(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> int:
    """The reason of every version of the customer's contracts (amendment, cancellation),
    in its column and in the terms on record."""
    return await _update(
        conn,
        f"""
        UPDATE contract_versions v
        SET reason = CASE WHEN v.reason IS NULL THEN NULL ELSE $3 END,
            terms = CASE WHEN v.terms ? 'reason'
                         THEN jsonb_set(v.terms, '{{reason}}', to_jsonb($3::text))
                         ELSE v.terms END
        {_of_the_customers_contracts("v")}
          AND (v.reason <> $3 OR v.terms ->> 'reason' <> $3)
        """,
        dealer_id,
        customer_id,
        ERASED_TEXT,
    )


async def erase_payments(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The reason of the ledger rows (a refund carries the cancellation reason)."""
    return await _update(
        conn,
        f"""
        UPDATE payments p SET reason = $3
        {_of_the_customers_contracts("p")}
          AND p.reason <> $3
        """,
        dealer_id,
        customer_id,
        ERASED_TEXT,
    )


async def erase_invoices(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The invoice's title (the buyer's name) and tax number (an ID number for a person)."""
    return await _update(
        conn,
        f"""
        UPDATE invoices i SET invoice_title = $3, tax_number = NULL
        {_of_the_customers_contracts("i")}
          AND (i.invoice_title <> $3 OR i.tax_number IS NOT NULL)
        """,
        dealer_id,
        customer_id,
        ERASED_TEXT,
    )


async def erase_deliveries(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The delivery location staff typed (it may be the customer's home)."""
    return await _update(
        conn,
        f"""
        UPDATE deliveries d SET location = NULL
        {_of_the_customers_contracts("d")}
          AND d.location IS NOT NULL
        """,
        dealer_id,
        customer_id,
    )


async def erase_test_drives(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The driver's contact, the (masked) licence number, the route staff typed, who
    signed the consent (its time and text version stay) and the feedback notes (the
    ratings stay), and the reason typed for a cancellation."""
    return await _update(
        conn,
        f"""
        UPDATE test_drives
        SET contact = {_ERASED_CONTACT}, licence_number = $4, route = NULL,
            consent_signed_by = CASE WHEN consent_signed_by IS NULL THEN NULL ELSE $4 END,
            feedback_notes = NULL, cancel_reason = NULL
        WHERE dealer_id = $1 AND customer_id = $2
          AND ({_NOT_ERASED} OR licence_number <> $4 OR route IS NOT NULL
               OR consent_signed_by <> $4 OR feedback_notes IS NOT NULL
               OR cancel_reason IS NOT NULL)
        """,
        dealer_id,
        customer_id,
        to_json(erased_contact()),
        ERASED_TEXT,
    )


async def erase_quote_approvals(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The note a manager wrote deciding the discount of one of the customer's quotes."""
    return await _update(
        conn,
        """
        UPDATE quote_approvals a SET note = $3
        FROM quotes q
        WHERE a.dealer_id = $1 AND q.dealer_id = a.dealer_id AND q.id = a.quote_id
          AND q.customer_id = $2 AND a.note IS NOT NULL AND a.note <> $3
        """,
        dealer_id,
        customer_id,
        ERASED_TEXT,
    )


async def erase_visits(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """The visitor's contact (the needs analysis is picked from lists: kept)."""
    return await _update(
        conn,
        f"""
        UPDATE showroom_visits SET contact = {_ERASED_CONTACT}
        WHERE dealer_id = $1 AND customer_id = $2 AND {_NOT_ERASED}
        """,
        dealer_id,
        customer_id,
        to_json(erased_contact()),
    )
