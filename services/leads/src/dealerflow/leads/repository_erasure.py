"""SQL of customer erasure at leads: the requests, and the anonymisation of what leads
holds about a customer at one store (``usecases_erasure``).

Anonymised, per row of the customer at the dealer: ``leads.contact`` becomes the erased
contact snapshot (its locale kept), ``leads.phone_e164`` the placeholder
``erased:<lead_id>`` (never an E.164 number, so no new submission de-duplicates onto it,
and unique per lead for the "one open lead per phone" index), ``leads.lost_note`` NULL;
the lead's ``contact_log.notes``, ``appointments.reason`` (free text) and
``lead_reviews.note`` (the manager's review) NULL; its ``lead_submissions.payload`` (the
normalised submitted document) ``{"erased": true}``. The phone aliases of merged leads
(``lead_phone_aliases``) that reach or came from the customer's leads are deleted, and the
leads merged into the customer's leads are anonymised like them. Kept: ids, grades,
statuses, channels, sources, interest (models, budget), dates, assignments, appointments
(times, places, how they went) and the contact log's outcomes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dealerflow.leads.records import ErasureRecord
from dealerflow.leads.repository import columns_of, insert_statement, values_of
from dealerflow.runtime.db import DbConnection

_COLUMNS = columns_of(ErasureRecord)
_INSERT = insert_statement("erasure_requests", _COLUMNS)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM erasure_requests"

#: The payload an erased submission keeps.
ERASED_PAYLOAD = '{"erased": true}'


async def insert_erasure(conn: DbConnection, erasure: ErasureRecord) -> None:
    await conn.execute(_INSERT, *values_of(erasure))


async def erasures_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ErasureRecord]:
    """The customer's erasure requests at the dealer, newest first."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE dealer_id = $1 AND customer_id = $2 ORDER BY requested_at DESC",
        dealer_id,
        customer_id,
    )
    return [ErasureRecord(**dict(row)) for row in rows]


async def mark_carried_out(
    conn: DbConnection, dealer_id: str, erasure_id: uuid.UUID, at: datetime
) -> None:
    await conn.execute(
        "UPDATE erasure_requests SET carried_out_at = $3 "
        "WHERE dealer_id = $1 AND erasure_id = $2 AND carried_out_at IS NULL",
        dealer_id,
        erasure_id,
        at,
    )


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def anonymise_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, erased_contact: str
) -> dict[str, int]:
    """Anonymise the customer's leads at the dealer (module docstring); rows changed per
    table. A second run changes nothing (every statement skips rows already erased)."""
    args: tuple[Any, ...] = (dealer_id, customer_id)
    notes = await conn.execute(
        "UPDATE contact_log c SET notes = NULL FROM leads l "
        "WHERE l.dealer_id = $1 AND l.customer_id = $2 "
        "AND c.dealer_id = l.dealer_id AND c.lead_id = l.lead_id AND c.notes IS NOT NULL",
        *args,
    )
    reasons = await conn.execute(
        "UPDATE appointments a SET reason = NULL FROM leads l "
        "WHERE l.dealer_id = $1 AND l.customer_id = $2 "
        "AND a.dealer_id = l.dealer_id AND a.lead_id = l.lead_id AND a.reason IS NOT NULL",
        *args,
    )
    review_notes = await conn.execute(
        "UPDATE lead_reviews r SET note = NULL FROM leads l "
        "WHERE l.dealer_id = $1 AND l.customer_id = $2 "
        "AND r.dealer_id = l.dealer_id AND r.lead_id = l.lead_id AND r.note IS NOT NULL",
        *args,
    )
    submissions = await conn.execute(
        "UPDATE lead_submissions s SET payload = $3::jsonb FROM leads l "
        "WHERE l.dealer_id = $1 AND l.customer_id = $2 "
        "AND s.dealer_id = l.dealer_id AND s.lead_id = l.lead_id AND s.payload <> $3::jsonb",
        *args,
        ERASED_PAYLOAD,
    )
    aliases = await conn.execute(
        "DELETE FROM lead_phone_aliases a USING leads l "
        "WHERE l.dealer_id = $1 AND l.customer_id = $2 AND a.dealer_id = l.dealer_id "
        "AND (a.lead_id = l.lead_id OR a.merged_from = l.lead_id)",
        *args,
    )
    # the customer's leads, and the leads merged into them (the same person's other number)
    leads = await conn.execute(
        "UPDATE leads SET contact = $3::jsonb || jsonb_build_object('locale', contact->'locale'), "
        "phone_e164 = 'erased:' || lead_id::text, "
        "lost_note = NULL "
        "WHERE dealer_id = $1 AND phone_e164 NOT LIKE 'erased:%' AND (customer_id = $2 "
        "OR merged_into IN (SELECT lead_id FROM leads WHERE dealer_id = $1 AND customer_id = $2))",
        *args,
        erased_contact,
    )
    return {
        "lead_phone_aliases": _count(aliases),
        "leads": _count(leads),
        "contact_log": _count(notes),
        "appointments": _count(reasons),
        "lead_reviews": _count(review_notes),
        "lead_submissions": _count(submissions),
    }
