"""SQL of what the notifier keeps per lead for its follow-up cadence (`lead_follow_ups`,
read together with `lead_grades`): the consultant, the latest logged contact and the
date agreed in it, a declined invitation and the re-engagement that lifted it.

Every statement is scoped by ``dealer_id``. Each fact keeps its newest value: an older
event (redelivered, or republished by an outside producer) changes nothing, and the
writers say whether anything changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from dealerflow.notifier.domain_leads import LeadFollowUp
from dealerflow.runtime.db import DbConnection


async def note_lead(
    conn: DbConnection,
    dealer_id: str,
    lead_id: str,
    customer_id: uuid.UUID,
    consultant_id: str | None,
) -> None:
    """Know the lead (its customer and, when given, its consultant now)."""
    await conn.execute(
        """
        INSERT INTO lead_follow_ups (dealer_id, lead_id, customer_id, consultant_id)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, lead_id) DO UPDATE
            SET customer_id = excluded.customer_id,
                consultant_id = coalesce(excluded.consultant_id, lead_follow_ups.consultant_id)
        """,
        dealer_id,
        lead_id,
        customer_id,
        consultant_id,
    )


async def set_consultant(
    conn: DbConnection, dealer_id: str, lead_id: str, consultant_id: str
) -> None:
    """The lead was (re)assigned: its next follow-ups go to ``consultant_id``."""
    await conn.execute(
        "UPDATE lead_follow_ups SET consultant_id = $3 WHERE dealer_id = $1 AND lead_id = $2",
        dealer_id,
        lead_id,
        consultant_id,
    )


async def record_contact(
    conn: DbConnection,
    dealer_id: str,
    lead_id: str,
    customer_id: uuid.UUID,
    *,
    consultant_id: str,
    contacted_at: datetime,
    next_contact_on: date | None,
) -> bool:
    """Remember the lead's latest contact and the date agreed in it; False for a contact
    older than the one known. The consultant who made it counts as the lead's only when
    none is known."""
    newest = await conn.fetchval(
        """
        INSERT INTO lead_follow_ups (dealer_id, lead_id, customer_id, consultant_id,
                                     contacted_at, next_contact_on)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (dealer_id, lead_id) DO UPDATE
            SET contacted_at = excluded.contacted_at,
                next_contact_on = excluded.next_contact_on,
                consultant_id = coalesce(lead_follow_ups.consultant_id, excluded.consultant_id)
            WHERE lead_follow_ups.contacted_at IS NULL
               OR lead_follow_ups.contacted_at <= excluded.contacted_at
        RETURNING true
        """,
        dealer_id,
        lead_id,
        customer_id,
        consultant_id,
        contacted_at,
        next_contact_on,
    )
    return bool(newest)


async def void_agreed_date(conn: DbConnection, dealer_id: str, lead_id: str) -> None:
    """The lead closed: a next-contact date agreed before no longer stands (a reopened
    lead is followed up from its reopening)."""
    await conn.execute(
        "UPDATE lead_follow_ups SET next_contact_on = NULL WHERE dealer_id = $1 AND lead_id = $2",
        dealer_id,
        lead_id,
    )


async def record_decline(
    conn: DbConnection, dealer_id: str, lead_id: str, customer_id: uuid.UUID, declined_at: datetime
) -> bool:
    """The customer declined the invitation at ``declined_at``: the date agreed before is
    void. False when a later decline or a later re-engagement is known (this one is old)."""
    newest = await conn.fetchval(
        """
        INSERT INTO lead_follow_ups (dealer_id, lead_id, customer_id, declined_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, lead_id) DO UPDATE
            SET declined_at = excluded.declined_at, next_contact_on = NULL
            WHERE (lead_follow_ups.declined_at IS NULL
                   OR lead_follow_ups.declined_at <= excluded.declined_at)
              AND (lead_follow_ups.reengaged_at IS NULL
                   OR lead_follow_ups.reengaged_at < excluded.declined_at)
        RETURNING true
        """,
        dealer_id,
        lead_id,
        customer_id,
        declined_at,
    )
    return bool(newest)


async def record_reengagement(
    conn: DbConnection,
    dealer_id: str,
    lead_id: str,
    customer_id: uuid.UUID,
    reengaged_at: datetime,
) -> bool:
    """The customer re-engaged at ``reengaged_at`` (lifting a decline made before it);
    False when a later re-engagement is known."""
    newest = await conn.fetchval(
        """
        INSERT INTO lead_follow_ups (dealer_id, lead_id, customer_id, reengaged_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, lead_id) DO UPDATE
            SET reengaged_at = excluded.reengaged_at
            WHERE lead_follow_ups.reengaged_at IS NULL
               OR lead_follow_ups.reengaged_at <= excluded.reengaged_at
        RETURNING true
        """,
        dealer_id,
        lead_id,
        customer_id,
        reengaged_at,
    )
    return bool(newest)


async def lead_follow_up(conn: DbConnection, dealer_id: str, lead_id: str) -> LeadFollowUp | None:
    """What is known of the lead for its cadence (None before any of its events)."""
    row = await conn.fetchrow(
        """
        SELECT f.customer_id, f.consultant_id, g.grade, g.graded_at, f.contacted_at,
               f.next_contact_on, f.declined_at, f.reengaged_at
        FROM lead_follow_ups f
        LEFT JOIN lead_grades g ON g.dealer_id = f.dealer_id AND g.lead_id = f.lead_id
        WHERE f.dealer_id = $1 AND f.lead_id = $2
        """,
        dealer_id,
        lead_id,
    )
    if row is None:
        return None
    return LeadFollowUp(dealer_id=dealer_id, lead_id=lead_id, **dict(row))


async def invitation_declined(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> bool:
    """True while a declined invitation stands on one of the customer's leads (marketing
    to the customer stops, see `domain_contact.decide_send`)."""
    standing = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM lead_follow_ups
            WHERE dealer_id = $1 AND customer_id = $2 AND declined_at IS NOT NULL
              AND (reengaged_at IS NULL OR reengaged_at <= declined_at)
        )
        """,
        dealer_id,
        customer_id,
    )
    return bool(standing)


async def move_to_survivor(
    conn: DbConnection,
    dealer_id: str,
    merged_lead_ids: Sequence[str],
    merged_customer_ids: Sequence[uuid.UUID],
    lead_id: str,
    customer_id: uuid.UUID,
    now: datetime,
) -> dict[str, int]:
    """Open tasks and scheduled reminders about the merged leads now are about the
    surviving lead, and those of the merged customer ids belong to the surviving customer;
    rows moved per table."""
    moved: dict[str, int] = {}
    for table, open_states in (("tasks", ["scheduled", "due"]), ("reminders", ["scheduled"])):
        status = await conn.execute(
            f"UPDATE {table} SET "
            "related_id = CASE WHEN related_kind = 'lead' AND related_id = ANY($2::text[]) "
            "THEN $4 ELSE related_id END, "
            "customer_id = CASE WHEN customer_id = ANY($3::uuid[]) THEN $5 ELSE customer_id END, "
            "updated_at = $6 "
            "WHERE dealer_id = $1 AND status = ANY($7::text[]) "
            "AND ((related_kind = 'lead' AND related_id = ANY($2::text[])) "
            "OR customer_id = ANY($3::uuid[]))",
            dealer_id,
            list(merged_lead_ids),
            list(merged_customer_ids),
            lead_id,
            customer_id,
            now,
            open_states,
        )
        moved[table] = int(status.rsplit(" ", 1)[-1])
    return moved
