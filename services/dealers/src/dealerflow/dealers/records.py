"""What the dealers service stores, as plain data (rows of repository.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dealerflow.dealers.domain import Owner


@dataclass(frozen=True)
class DealerRecord:
    """One store: what it set, the group it inherits from, its published version.

    ``configuration`` is the effective configuration published with
    ``configuration_version`` (None when never published: version 0, or imported and
    not yet published)."""

    dealer_id: str
    group_id: str | None
    overrides: dict[str, Any]
    configuration_version: int
    configuration: dict[str, Any] | None
    published: bool = True
    imported: dict[str, Any] | None = None


@dataclass(frozen=True)
class GroupRecord:
    """One dealer group: its overrides and version (``configuration``: environment <-
    group overrides, None while never changed)."""

    group_id: str
    overrides: dict[str, Any]
    configuration_version: int
    configuration: dict[str, Any] | None


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a store's or a group's configuration."""

    owner_kind: Owner
    owner_id: str
    version: int
    changed_at: datetime
    changed_by: str
    sections: list[str]
    change: dict[str, Any]
    configuration: dict[str, Any]
