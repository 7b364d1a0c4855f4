"""Request bodies of staff working their tasks (``api_task_actions``); the answer is the
task (``schemas.TaskOut``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.runtime.request_models import PlannedAt

StaffIdText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

#: Roles a manual task may be filed under (`domain_types.StaffRole` values).
ManualTaskRole = Literal[
    "consultant", "advisor", "customer_relations", "sales_manager", "service_manager", "gm"
]


class TaskSnooze(BaseModel):
    """Move the task's due time forward, not past its hard SLA."""

    model_config = ConfigDict(extra="forbid")

    until: PlannedAt = Field(description="The new due time (in the future).")
    reason: Literal["customer_asked", "customer_away", "waiting_on_others", "other"] = Field(
        description="Why (a code: no free text is kept)."
    )


class TaskReassignment(BaseModel):
    """Give the task to another staff member."""

    model_config = ConfigDict(extra="forbid")

    assignee: StaffIdText = Field(description="Staff id of the new assignee.")


class ManualTaskIn(BaseModel):
    """A task created by hand (kind ``manual``), about a customer."""

    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=4000)] | None = Field(
        default=None, description="What to do or say; shown to the assignee."
    )
    due_at: PlannedAt = Field(description="When it is due (now or later).")
    assignee: StaffIdText | None = Field(
        default=None, description="Staff id; defaults to the caller (the token's subject)."
    )
    assignee_role: ManualTaskRole | None = Field(
        default=None,
        description="The role it is filed under (who it escalates to when overdue); "
        "defaults to the caller's role.",
    )
