"""Response of GET /v1/complaints/{id}/clocks: every clock of a complaint with its time
left now (as it counts), its pauses, breached or met."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from dealerflow.complaints.records import ClockStatus, ComplaintCase
from dealerflow.complaints.schemas import ClockView, PauseView


class ComplaintClocks(BaseModel):
    """A complaint's SLA clocks as of now (each arming: a reopened complaint has a new
    resolve clock), the ones still open first by their deadline."""

    complaint_id: uuid.UUID
    dealer_id: str
    as_of: datetime = Field(description="The moment time_left_seconds is measured at, UTC.")
    paused: bool
    escalation_level: int
    clocks: list[ClockView]
    pauses: list[PauseView] = Field(description="Every pause of the complaint, oldest first.")

    @classmethod
    def of_case(cls, case: ComplaintCase) -> ComplaintClocks:
        complaint = case.complaint
        views = ClockView.all_of(case)

        def order(view: ClockView) -> tuple[int, float]:
            still_open = view.status in ClockStatus.OPEN
            left = view.time_left_seconds if view.time_left_seconds is not None else 0.0
            return (0 if still_open else 1, left if still_open else 0.0)

        return cls(
            complaint_id=complaint.id,
            dealer_id=complaint.dealer_id,
            as_of=case.as_of or complaint.opened_at,
            paused=complaint.paused,
            escalation_level=complaint.escalation_level,
            clocks=sorted(views, key=order),
            pauses=[PauseView.of(p) for p in case.pauses],
        )
