"""Reading dealer configuration: a store (an unknown one has the defaults, version 0), a
group, their history and the list of stores."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from dealerflow.dealers import repository
from dealerflow.dealers.domain import InvalidConfiguration, Owner, effective_configuration, group_of
from dealerflow.dealers.records import DealerRecord, GroupRecord, HistoryEntry
from dealerflow.dealers.usecases import DealerState, GroupState, Uc, defaults
from dealerflow.runtime.auth import Principal

__all__ = ["Covered", "dealer_state", "group_state", "history", "list_dealers"]

log = logging.getLogger("dealerflow.dealers")


async def dealer_state(uc: Uc, dealer_id: str) -> DealerState:
    """The store's effective configuration, its overrides and its group's. A store never
    configured is answered like any other: the defaults, version 0."""
    environment = uc.settings.environment_layers()
    store = await repository.dealer(uc.conn, dealer_id) or DealerRecord(
        dealer_id, group_of(environment, {}), {}, 0, None
    )
    group = await repository.group(uc.conn, store.group_id) if store.group_id else None
    group_overrides = group.overrides if group is not None else {}
    configuration = store.configuration
    if configuration is None:  # never published (e.g. imported, publication pending)
        try:
            configuration = effective_configuration(
                [*environment, group_overrides, store.overrides]
            ).model_dump(mode="json")
        except InvalidConfiguration as exc:
            log.warning("stored overrides of dealer %s are invalid: %s", dealer_id, exc.errors)
            configuration = defaults(uc)
    return DealerState(store, configuration, group_overrides)


async def group_state(uc: Uc, group_id: str) -> GroupState:
    """The group's overrides and the configuration they make (defaults, version 0, for a
    group never configured)."""
    group = await repository.group(uc.conn, group_id) or GroupRecord(group_id, {}, 0, None)
    return GroupState(group, group.configuration or defaults(uc))


async def history(
    uc: Uc, owner_kind: Owner, owner_id: str, *, before: int | None, limit: int
) -> Sequence[HistoryEntry]:
    """Versions of a store or group, newest first (keyset: older than ``before``)."""
    return await repository.history(uc.conn, owner_kind, owner_id, before=before, limit=limit)


@dataclass(frozen=True)
class Covered:
    """The stores a caller may see: ``dealer_ids`` (None: every store) and every store
    of ``dealer_group``."""

    dealer_ids: frozenset[str] | None
    dealer_group: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Covered:
        """What a bearer token covers."""
        if principal.all_dealers:
            return cls(None)
        return cls(principal.dealers, principal.dealer_group)


async def list_dealers(
    uc: Uc, *, group_id: str | None, covered: Covered, after: str | None, limit: int
) -> list[DealerRecord]:
    """Configured stores that ``covered`` allows, by dealer id, optionally of one group."""
    return await repository.list_dealers(
        uc.conn,
        group_id=group_id,
        dealer_ids=None if covered.dealer_ids is None else sorted(covered.dealer_ids),
        dealer_group=covered.dealer_group,
        after=after,
        limit=limit,
    )
