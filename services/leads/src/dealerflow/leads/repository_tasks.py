"""SQL of what leads did about the notifier's tasks (``task_reactions``), so that each
reaction happens once per task whatever the events repeat; scoped by dealer_id."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.runtime.db import DbConnection


async def claim_reaction(
    conn: DbConnection,
    dealer_id: str,
    task_id: str,
    reaction: str,
    lead_id: uuid.UUID,
    at: datetime,
) -> bool:
    """Record that leads reacts to ``task_id`` with ``reaction``; False if it did already."""
    status = await conn.execute(
        "INSERT INTO task_reactions (dealer_id, task_id, reaction, lead_id, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        dealer_id,
        task_id,
        reaction,
        lead_id,
        at,
    )
    return bool(status == "INSERT 0 1")


async def record_breach(
    conn: DbConnection,
    dealer_id: str,
    task_id: str,
    breaches: int,
    lead_id: uuid.UUID,
    consultant_id: str | None,
    due_at: datetime,
) -> bool:
    """Record a reported first-contact breach (``first_contact_breaches``); False when this
    task's breach of that count was recorded already."""
    status = await conn.execute(
        "INSERT INTO first_contact_breaches (dealer_id, task_id, breaches, lead_id, "
        "consultant_id, due_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        dealer_id,
        task_id,
        breaches,
        lead_id,
        consultant_id,
        due_at,
    )
    return bool(status == "INSERT 0 1")
