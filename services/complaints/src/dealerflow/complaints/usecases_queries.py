"""What staff read: a dealer's complaints (newest first), one complaint with its clocks
and history (`usecases.complaint_case`), and the complaint analysis."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.complaints import repository, repository_stats
from dealerflow.complaints.records import ComplaintCounts, ComplaintRecord
from dealerflow.complaints.repository import ComplaintFilter
from dealerflow.complaints.usecases import Uc


async def list_complaints(
    uc: Uc, where: ComplaintFilter, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[ComplaintRecord]:
    """The dealer's complaints matching ``where``, newest first, after a keyset position."""
    return await repository.list_complaints(uc.conn, where, limit=limit, after=after)


async def complaint_stats(
    uc: Uc, dealer_id: str, *, opened_from: datetime | None, opened_to: datetime | None
) -> ComplaintCounts:
    """Counts and mean times of the dealer's complaints opened in [from, to), months in
    the dealer's time zone."""
    policy = await uc.policy(dealer_id)
    return await repository_stats.complaint_stats(
        uc.conn,
        dealer_id,
        opened_from=opened_from,
        opened_to=opened_to,
        time_zone=policy.calendar.time_zone,
    )
