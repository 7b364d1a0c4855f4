"""Request and answer of a weather warning (``api_weather``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.notifier.domain_weather import WeatherKind, WeatherWarning
from dealerflow.runtime.request_models import PlannedAt


class WeatherWarningIn(BaseModel):
    """Bad weather coming to the dealer's area: every owner gets a tip now."""

    model_config = ConfigDict(extra="forbid")

    kind: WeatherKind = Field(description="The weather the warning is about.")
    starts_at: PlannedAt = Field(description="When the weather is expected.")
    ends_at: PlannedAt | None = Field(
        default=None, description="When it should be over (after starts_at, in the future)."
    )
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = Field(
        default=None,
        description="Added to the tip as written (e.g. the typhoon's name, a road closed): "
        "every owner reads it.",
    )


class WeatherWarningOut(BaseModel):
    """The warning recorded; its tips are planned at once, in the background."""

    warning_id: uuid.UUID
    dealer_id: str
    kind: WeatherKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None
    note: str | None

    @classmethod
    def of(cls, warning: WeatherWarning) -> WeatherWarningOut:
        return cls(
            warning_id=warning.warning_id,
            dealer_id=warning.dealer_id,
            kind=warning.kind,
            starts_at=warning.starts_at,
            ends_at=warning.ends_at,
            note=warning.note,
        )
