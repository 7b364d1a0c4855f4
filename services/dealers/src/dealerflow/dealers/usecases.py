"""Changing dealer configuration: a store's or a group's overrides replaced or merge
patched (whole or one section), a year of official calendar dates imported, imported
legacy policies published.

Every change runs in the caller's one transaction: the overrides, the version (plus one
per store whose effective configuration changed), a history row per version, and a
`DealerConfigured` per changed store through the outbox (``uc.publish``). A change that
leaves a store's effective configuration as it was stores the overrides and publishes
nothing (the version stays). A group change re-computes every store of the group.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.dealers import repository
from dealerflow.dealers.domain import (
    ChangeKind,
    InvalidConfiguration,
    Owner,
    Section,
    calendar_year_patch,
    changed_sections,
    compact,
    effective_configuration,
    group_of,
    overrides_after,
)
from dealerflow.dealers.records import DealerRecord, GroupRecord, HistoryEntry
from dealerflow.dealers.settings import DealersSettings
from dealerflow.policy import apply_merge_patch
from dealerflow.runtime.context import UseCaseContext

__all__ = [
    "IMPORT_ACTOR",
    "UNKNOWN_ACTOR",
    "ChangeConfiguration",
    "DealerState",
    "GroupState",
    "ImportCalendarYear",
    "Owner",
    "PreconditionFailed",
    "Uc",
    "acting_staff",
    "configure_dealer",
    "configure_group",
    "defaults",
    "import_dealer_year",
    "import_group_year",
    "publish_imported",
]

log = logging.getLogger("dealerflow.dealers")

Uc = UseCaseContext[DealersSettings]

#: Who the import of the former per-service policy tables is recorded as.
IMPORT_ACTOR = "dealers-import"
#: Who a change is recorded as when nobody is acting (a use case run outside a request).
UNKNOWN_ACTOR = "unknown"


def acting_staff(uc: Uc) -> str:
    """Who a change of this use case is recorded as: the acting staff id (the bearer
    token's subject, ``uc.actor``)."""
    return uc.actor or UNKNOWN_ACTOR


class PreconditionFailed(ValueError):
    """``If-Match`` named another version than the current one (someone changed it since
    the client read it)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the configuration is at version {current}; read it again")
        self.current = current

    @property
    def problem_extensions(self) -> Mapping[str, Any]:
        return {"configuration_version": self.current}


@dataclass(frozen=True)
class ChangeConfiguration:
    """Replace or merge patch the overrides of a store or a group (``section`` None: the
    whole document, else one section)."""

    owner_id: str
    kind: ChangeKind
    body: Mapping[str, Any]
    section: Section | None = None
    #: the version the client read (If-Match); None: unconditional
    if_match: int | None = None

    @property
    def prefix(self) -> tuple[str, ...]:
        """Where the body sits in a DealerSettings document."""
        return self.section.path if self.section is not None else ()

    def described(self) -> dict[str, Any]:
        """The change as the history keeps it."""
        return {"kind": self.kind, "section": self.section, "body": dict(self.body)}


@dataclass(frozen=True)
class ImportCalendarYear:
    """Replace one year's holidays and make-up working days of a store or a group."""

    owner_id: str
    year: int
    holidays: Sequence[date] = ()
    makeup_working_days: Sequence[date] = ()
    if_match: int | None = None

    def described(self) -> dict[str, Any]:
        """The change as the history keeps it."""
        return {
            "kind": "calendar_year",
            "section": Section.CALENDAR,
            "year": self.year,
            "body": {
                "holidays": sorted(d.isoformat() for d in self.holidays),
                "makeup_working_days": sorted(d.isoformat() for d in self.makeup_working_days),
            },
        }


@dataclass(frozen=True)
class DealerState:
    """A store's configuration as the API shows it."""

    record: DealerRecord
    configuration: dict[str, Any]
    group_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupState:
    """A group's configuration as the API shows it; ``stores_changed`` counts the stores
    a change re-published."""

    record: GroupRecord
    configuration: dict[str, Any]
    stores_changed: int = 0


def _check(if_match: int | None, current: int) -> None:
    if if_match is not None and if_match != current:
        raise PreconditionFailed(current)


def defaults(uc: Uc) -> dict[str, Any]:
    """The environment's configuration: what a store or group that set nothing gets."""
    return effective_configuration(uc.settings.environment_layers()).model_dump(mode="json")


# -- stores ------------------------------------------------------------------------------


async def configure_dealer(uc: Uc, cmd: ChangeConfiguration) -> DealerState:
    """PUT/PATCH of a store's overrides (whole or a section)."""
    store = await repository.lock_dealer(uc.conn, cmd.owner_id)
    _check(cmd.if_match, store.configuration_version)
    overrides = overrides_after(
        store.overrides, owner="dealer", section=cmd.section, kind=cmd.kind, body=cmd.body
    )
    return await _store_changed(
        uc, store, overrides, changed_by=acting_staff(uc), change=cmd.described(), prefix=cmd.prefix
    )


async def import_dealer_year(uc: Uc, cmd: ImportCalendarYear) -> DealerState:
    """A year of official dates for a store (the other years it has stay)."""
    store = await repository.lock_dealer(uc.conn, cmd.owner_id)
    _check(cmd.if_match, store.configuration_version)
    prefix = Section.CALENDAR.path
    current = await _store_effective(uc, store, store.overrides, prefix=prefix)
    patch = calendar_year_patch(
        current.configuration, cmd.year, cmd.holidays, cmd.makeup_working_days
    )
    overrides = compact(apply_merge_patch(store.overrides, patch))
    return await _store_changed(
        uc, store, overrides, changed_by=acting_staff(uc), change=cmd.described(), prefix=prefix
    )


async def _store_effective(
    uc: Uc, store: DealerRecord, overrides: dict[str, Any], *, prefix: Sequence[str]
) -> DealerState:
    # ``store`` with ``overrides`` and the group they name, and the configuration they make;
    # the group's overrides are read under a share lock: a group change waits for us
    environment = uc.settings.environment_layers()
    group_id = group_of(environment, overrides, prefix=prefix)
    group = await repository.share_group(uc.conn, group_id) if group_id else None
    group_overrides = group.overrides if group is not None else {}
    effective = effective_configuration([*environment, group_overrides, overrides], prefix=prefix)
    record = replace(store, overrides=overrides, group_id=group_id)
    return DealerState(record, effective.model_dump(mode="json"), group_overrides)


async def _store_changed(
    uc: Uc,
    store: DealerRecord,
    overrides: dict[str, Any],
    *,
    changed_by: str,
    change: dict[str, Any],
    prefix: Sequence[str],
) -> DealerState:
    computed = await _store_effective(uc, store, overrides, prefix=prefix)
    saved = await _publish_if_changed(
        uc, computed.record, computed.configuration, changed_by=changed_by, change=change
    )
    return replace(computed, record=saved)


async def _publish_if_changed(
    uc: Uc,
    store: DealerRecord,
    configuration: dict[str, Any],
    *,
    changed_by: str,
    change: dict[str, Any],
) -> DealerRecord:
    """Save ``store`` (its new overrides) with ``configuration`` as its effective one: a
    new version, a history row and a DealerConfigured when that differs from what it had
    (or it was never published)."""
    before = store.configuration if store.configuration is not None else defaults(uc)
    if store.published and configuration == before:
        await repository.save_dealer(uc.conn, store)
        return store
    sections = changed_sections(before, configuration)
    saved = replace(
        store,
        configuration_version=store.configuration_version + 1,
        configuration=configuration,
        published=True,
    )
    await repository.save_dealer(uc.conn, saved)
    await _record_version(
        uc,
        "dealer",
        saved.dealer_id,
        saved.configuration_version,
        sections,
        configuration,
        changed_by=changed_by,
        change=change,
    )
    await uc.publish(
        DealerConfigured(
            dealer_id=saved.dealer_id,
            group_id=saved.group_id,
            configuration_version=saved.configuration_version,
            configuration=configuration,
            changed_by=changed_by,
            changed_sections=[s.value for s in sections],
            occurred_at=uc.now,
        )
    )
    return saved


async def _record_version(
    uc: Uc,
    owner_kind: Owner,
    owner_id: str,
    version: int,
    sections: Sequence[Section],
    configuration: dict[str, Any],
    *,
    changed_by: str,
    change: dict[str, Any],
) -> None:
    entry = HistoryEntry(
        owner_kind=owner_kind,
        owner_id=owner_id,
        version=version,
        changed_at=uc.now,
        changed_by=changed_by,
        sections=[s.value for s in sections],
        change=change,
        configuration=configuration,
    )
    await repository.add_history(uc.conn, entry)


# -- groups ------------------------------------------------------------------------------


async def configure_group(uc: Uc, cmd: ChangeConfiguration) -> GroupState:
    """PUT/PATCH of a group's overrides; its stores follow."""
    group = await repository.lock_group(uc.conn, cmd.owner_id)
    _check(cmd.if_match, group.configuration_version)
    overrides = overrides_after(
        group.overrides, owner="group", section=cmd.section, kind=cmd.kind, body=cmd.body
    )
    return await _group_changed(
        uc, group, overrides, changed_by=acting_staff(uc), change=cmd.described(), prefix=cmd.prefix
    )


async def import_group_year(uc: Uc, cmd: ImportCalendarYear) -> GroupState:
    """A year of official dates for a group (its stores inherit them)."""
    group = await repository.lock_group(uc.conn, cmd.owner_id)
    _check(cmd.if_match, group.configuration_version)
    prefix = Section.CALENDAR.path
    environment = uc.settings.environment_layers()
    current = effective_configuration([*environment, group.overrides], prefix=prefix)
    patch = calendar_year_patch(
        current.model_dump(mode="json"), cmd.year, cmd.holidays, cmd.makeup_working_days
    )
    overrides = compact(apply_merge_patch(group.overrides, patch))
    return await _group_changed(
        uc, group, overrides, changed_by=acting_staff(uc), change=cmd.described(), prefix=prefix
    )


async def _group_changed(
    uc: Uc,
    group: GroupRecord,
    overrides: dict[str, Any],
    *,
    changed_by: str,
    change: dict[str, Any],
    prefix: Sequence[str],
) -> GroupState:
    environment = uc.settings.environment_layers()
    configuration = effective_configuration([*environment, overrides], prefix=prefix).model_dump(
        mode="json"
    )
    before = group.configuration if group.configuration is not None else defaults(uc)
    if configuration == before:
        same = replace(group, overrides=overrides)
        await repository.save_group(uc.conn, same)
        return GroupState(same, configuration)
    saved = replace(
        group,
        overrides=overrides,
        configuration_version=group.configuration_version + 1,
        configuration=configuration,
    )
    await repository.save_group(uc.conn, saved)
    sections = changed_sections(before, configuration, owner="group")
    await _record_version(
        uc,
        "group",
        saved.group_id,
        saved.configuration_version,
        sections,
        configuration,
        changed_by=changed_by,
        change=change,
    )
    because = {"group_id": saved.group_id, "group_version": saved.configuration_version}
    stores_changed = 0
    for store in await repository.lock_group_stores(uc.conn, saved.group_id):
        effective = effective_configuration(
            [*environment, overrides, store.overrides], dealer_id=store.dealer_id
        ).model_dump(mode="json")
        after = await _publish_if_changed(
            uc, store, effective, changed_by=changed_by, change=because
        )
        stores_changed += after.configuration_version != store.configuration_version
    return GroupState(saved, configuration, stores_changed)


# -- the import of the former per-service policy tables ----------------------------------


async def publish_imported(uc: Uc) -> int:
    """Publish a DealerConfigured for every store whose overrides were imported by
    migration 0002 and not published yet; returns how many. A store whose imported
    overrides do not validate any more stays unpublished (logged) until staff fix it
    through the API."""
    published = 0
    for store in await repository.lock_unpublished(uc.conn):
        try:
            await _store_changed(
                uc,
                store,
                store.overrides,
                changed_by=IMPORT_ACTOR,
                change={"kind": "import", "imported": store.imported or {}},
                prefix=(),
            )
        except InvalidConfiguration as exc:
            log.error(
                "imported policy of dealer %s does not validate; not published: %s",
                store.dealer_id,
                exc.errors,
            )
            continue
        published += 1
    return published
