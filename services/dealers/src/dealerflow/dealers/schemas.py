"""HTTP models of the dealers service. Configuration bodies are partial DealerSettings
documents (JSON objects, validated as a whole configuration, see docs/services.md), so
they are plain objects here; the answers are built from use-case results with ``of``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from dealerflow.dealers.domain import Section, section_of
from dealerflow.dealers.records import DealerRecord, HistoryEntry
from dealerflow.dealers.usecases import DealerState, GroupState
from dealerflow.runtime.request_models import RequestBody

_CONFIGURATION = (
    "The effective configuration: defaults <- environment <- dealer group <- store "
    "(every setting, see docs/dealer-configuration.md)."
)
_OVERRIDES = "What this store set (a partial configuration); the rest is inherited."
_GROUP_OVERRIDES = "What the store's dealer group set (inherited unless the store overrides it)."
_VERSION = "Grows by one with every change of the effective configuration; 0 = never configured."


class DealerView(BaseModel):
    """A store's configuration (GET/PUT/PATCH /v1/dealers/{dealer_id})."""

    dealer_id: str
    group_id: str | None = Field(description="The dealer group the store inherits from.")
    configuration_version: int = Field(description=_VERSION)
    configuration: dict[str, Any] = Field(description=_CONFIGURATION)
    overrides: dict[str, Any] = Field(description=_OVERRIDES)
    group_overrides: dict[str, Any] = Field(description=_GROUP_OVERRIDES)

    @classmethod
    def of(cls, state: DealerState) -> DealerView:
        return cls(
            dealer_id=state.record.dealer_id,
            group_id=state.record.group_id,
            configuration_version=state.record.configuration_version,
            configuration=state.configuration,
            overrides=state.record.overrides,
            group_overrides=state.group_overrides,
        )


class DealerSectionView(BaseModel):
    """One section of a store's configuration (profile, calendar, rules or people)."""

    dealer_id: str
    group_id: str | None
    section: Section
    configuration_version: int = Field(description=_VERSION)
    configuration: dict[str, Any] = Field(description="The section's effective values.")
    overrides: dict[str, Any] = Field(description="What the store set in this section.")
    group_overrides: dict[str, Any] = Field(description="What its group set in this section.")

    @classmethod
    def of(cls, state: DealerState, section: Section) -> DealerSectionView:
        return cls(
            dealer_id=state.record.dealer_id,
            group_id=state.record.group_id,
            section=section,
            configuration_version=state.record.configuration_version,
            configuration=section_of(state.configuration, section),
            overrides=section_of(state.record.overrides, section),
            group_overrides=section_of(state.group_overrides, section),
        )


class GroupView(BaseModel):
    """A dealer group's configuration (GET/PUT/PATCH /v1/dealer-groups/{group_id})."""

    group_id: str
    configuration_version: int = Field(description=_VERSION)
    configuration: dict[str, Any] = Field(
        description="Defaults <- environment <- the group's overrides: what a store of the "
        "group that set nothing gets."
    )
    overrides: dict[str, Any] = Field(description="What the group set (no profile).")
    stores_changed: int = Field(
        default=0, description="Stores whose configuration this request re-published."
    )

    @classmethod
    def of(cls, state: GroupState) -> GroupView:
        return cls(
            group_id=state.record.group_id,
            configuration_version=state.record.configuration_version,
            configuration=state.configuration,
            overrides=state.record.overrides,
            stores_changed=state.stores_changed,
        )


class GroupSectionView(BaseModel):
    """One section of a dealer group's configuration (calendar, rules or people)."""

    group_id: str
    section: Section
    configuration_version: int = Field(description=_VERSION)
    configuration: dict[str, Any]
    overrides: dict[str, Any]
    stores_changed: int = 0

    @classmethod
    def of(cls, state: GroupState, section: Section) -> GroupSectionView:
        return cls(
            group_id=state.record.group_id,
            section=section,
            configuration_version=state.record.configuration_version,
            configuration=section_of(state.configuration, section),
            overrides=section_of(state.record.overrides, section),
            stores_changed=state.stores_changed,
        )


class CalendarYearIn(RequestBody):
    """One year of official dates (e.g. China's State Council holiday notice): they replace
    that year's holidays and make-up working days; other years stay."""

    holidays: list[date] = Field(default_factory=list, max_length=366)
    makeup_working_days: list[date] = Field(
        default_factory=list,
        max_length=366,
        description="Weekend days made working days (调休上班): business days after all.",
    )


class HistoryEntryView(BaseModel):
    """One version of a store's or a group's configuration."""

    version: int
    changed_at: datetime
    changed_by: str
    sections: list[Section]
    change: dict[str, Any] = Field(
        description="What was asked: kind (replace, merge_patch, calendar_year, import), "
        "section and body; or, for a store, the group change that caused it "
        "(group_id, group_version)."
    )

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryView:
        return cls(
            version=entry.version,
            changed_at=entry.changed_at,
            changed_by=entry.changed_by,
            sections=[Section(s) for s in entry.sections],
            change=entry.change,
        )


class HistoryPage(BaseModel):
    """A page of history, newest first."""

    items: list[HistoryEntryView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null = end.")


class DealerSummary(BaseModel):
    """A configured store in the list."""

    dealer_id: str
    group_id: str | None
    configuration_version: int
    name: str = Field(description="profile.name (empty: none set).")

    @classmethod
    def of(cls, record: DealerRecord) -> DealerSummary:
        profile = (record.configuration or record.overrides).get("profile") or {}
        return cls(
            dealer_id=record.dealer_id,
            group_id=record.group_id,
            configuration_version=record.configuration_version,
            name=str(profile.get("name", "")),
        )


class DealerPage(BaseModel):
    """A page of configured stores, by dealer id."""

    items: list[DealerSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null = end.")
