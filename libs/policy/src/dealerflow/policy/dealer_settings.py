"""`DealerSettings`: the whole configuration of one dealer (store), as every service sees it.

Four sections, each with the DOMAIN.md defaults for what the dealer did not set:

- ``profile``: name, dealer group, address (the locale is ``policy.contact.default_locale``,
  the time zone ``policy.calendar.time_zone``: each value lives in one place);
- ``policy``: every rule number (`DealerPolicy`), the business calendar included;
- ``people``: the dealer's staff by role, who is on duty, who replaces whom while away,
  and the OEM/region contact.

A dealer's stored configuration is a *partial* document of this shape (its overrides);
`settings_with_overrides` layers defaults <- environment <- dealer group <- store.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_serializer, field_validator, model_validator

from dealerflow.policy.dealer_policy import CalendarPolicy, DealerPolicy, merge_overrides
from dealerflow.policy.primitives import PolicyGroup

__all__ = [
    "CalendarYear",
    "DealerAddress",
    "DealerPeople",
    "DealerProfile",
    "DealerSettings",
    "OemContact",
    "StaffMember",
    "StaffRole",
    "apply_merge_patch",
    "placeholder_assignee",
    "settings_with_overrides",
]


class StaffRole(StrEnum):
    """What a staff member does at a dealer (one person may hold several roles)."""

    CONSULTANT = "consultant"
    ADVISOR = "advisor"
    CUSTOMER_RELATIONS = "customer_relations"
    SALES_MANAGER = "sales_manager"
    SERVICE_MANAGER = "service_manager"
    GM = "gm"
    FINANCE = "finance"
    PARTS_MANAGER = "parts_manager"


class DealerAddress(PolicyGroup):
    """Postal address of the store."""

    line1: str = Field(default="", max_length=200, description="Street and number.")
    line2: str = Field(
        default="", max_length=200, description="Second address line (building, unit)."
    )
    city: str = Field(default="", max_length=100, description="City.")
    province: str = Field(default="", max_length=100, description="Province or region.")
    postcode: str = Field(default="", max_length=20, description="Postal code.")
    country: str = Field(
        default="CN",
        min_length=2,
        max_length=2,
        description="Country as an ISO 3166-1 alpha-2 code.",
    )


class DealerProfile(PolicyGroup):
    """Who the dealer is."""

    name: str = Field(
        default="", max_length=200, description="Name used in messages; empty: the dealer id."
    )
    group_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The dealer group the store belongs to: its settings are inherited, "
        "and customer identity is shared within it.",
    )
    address: DealerAddress = Field(
        default_factory=DealerAddress, description="Postal address of the store."
    )
    staff_locale: Literal["zh-CN", "en"] | None = Field(
        default=None,
        description="Language of the staff task titles and scripts the notifier writes; "
        "null: English.",
    )


class StaffMember(PolicyGroup):
    """One person on the dealer's staff."""

    staff_id: str = Field(
        min_length=1,
        max_length=64,
        description="The id work is assigned to (unique within the dealer's staff).",
    )
    name: str = Field(default="", max_length=100, description="Name shown to colleagues.")
    roles: frozenset[StaffRole] = Field(
        min_length=1, description="What the person does (at least one role)."
    )
    on_duty: bool = Field(
        default=True,
        description="A consultant on duty gets new leads; false: none (other work still "
        "follows roles and absences).",
    )
    away_from: date | None = Field(
        default=None,
        description="First day away (dealer-local date); null with away_until set: away "
        "until then.",
    )
    away_until: date | None = Field(
        default=None,
        description="Last day away (dealer-local date); null with away_from set: away with no end.",
    )
    replaced_by: str | None = Field(
        default=None,
        description="Staff id who does this person's work while away (followed on while "
        "that person is away too).",
    )

    @field_serializer("roles")
    def _roles_in_order(self, roles: frozenset[StaffRole]) -> list[StaffRole]:
        # A set has no order: serialise in StaffRole's, so the same settings always give
        # the same JSON (the configuration event is compared and versioned as text).
        return sorted(roles, key=list(StaffRole).index)

    @model_validator(mode="after")
    def _check(self) -> StaffMember:
        if self.away_from and self.away_until and self.away_until < self.away_from:
            raise ValueError("away_until is before away_from")
        if self.replaced_by == self.staff_id:
            raise ValueError("a staff member cannot replace themself")
        return self

    def is_away(self, on: date) -> bool:
        """True when ``on`` falls in the person's absence (open-ended on either side)."""
        if self.away_from is None and self.away_until is None:
            return False
        starts = self.away_from or date.min
        ends = self.away_until or date.max
        return starts <= on <= ends

    def available(self, on: date) -> bool:
        """On duty and not away on ``on``."""
        return self.on_duty and not self.is_away(on)


class OemContact(PolicyGroup):
    """The OEM or region office complaints escalate to last."""

    name: str = Field(
        default="",
        max_length=200,
        description="Name of the office; escalations go to it (up to 64 characters) when "
        "staff_id is not set.",
    )
    staff_id: str | None = Field(
        default=None,
        max_length=64,
        description="The id top-rung complaint escalations and their alerts go to; null: "
        "the name, else the oem-region placeholder.",
    )
    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        max_length=500,
        description="HTTP(S) URL for the office's escalation alerts.",
    )


class DealerPeople(PolicyGroup):
    """The dealer's people by role."""

    staff: list[StaffMember] = Field(
        default_factory=list,
        max_length=1000,
        description="Everyone on the staff, one entry per person; the first listed holder "
        "of a role gets that role's work.",
    )
    oem_region: OemContact = Field(
        default_factory=OemContact,
        description="The OEM or region office complaints escalate to last.",
    )

    @field_validator("staff")
    @classmethod
    def _one_entry_per_person(cls, staff: list[StaffMember]) -> list[StaffMember]:
        # A field validator, so that the error's location is people.staff.
        ids = [member.staff_id for member in staff]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"staff listed twice: {', '.join(duplicates)}")
        known = set(ids)
        unknown = sorted(
            {m.replaced_by for m in staff if m.replaced_by and m.replaced_by not in known}
        )
        if unknown:
            raise ValueError(f"replaced_by names staff not listed: {', '.join(unknown)}")
        return staff

    def member(self, staff_id: str) -> StaffMember | None:
        """The staff member with ``staff_id``, if listed."""
        return next((m for m in self.staff if m.staff_id == staff_id), None)

    def with_role(self, role: StaffRole) -> list[StaffMember]:
        """Everyone holding ``role``, in the order listed."""
        return [m for m in self.staff if role in m.roles]

    def stand_in(self, staff_id: str, on: date) -> str:
        """Who does ``staff_id``'s work on ``on``: the person when present, else the first
        one present along their chain of replacements (A away -> B away -> C); the person
        themself when the chain ends with someone away or runs in a circle (the work
        waits for them rather than going to someone else who is away)."""
        seen = {staff_id}
        current = self.member(staff_id)
        while current is not None and current.is_away(on):
            if current.replaced_by is None or current.replaced_by in seen:
                return staff_id
            seen.add(current.replaced_by)
            current = self.member(current.replaced_by)
        return current.staff_id if current is not None else staff_id

    def holder_of(self, role: StaffRole, on: date) -> str | None:
        """The staff id that work for ``role`` goes to on ``on``: the first listed holder
        who is not away, else the first holder's stand-in who is present (in the order
        listed), else the first holder; None when nobody holds it."""
        holders = self.with_role(role)
        if not holders:
            return None
        for member in holders:
            if not member.is_away(on):
                return member.staff_id
        for member in holders:
            stand_in = self.member(self.stand_in(member.staff_id, on))
            if stand_in is not None and not stand_in.is_away(on):
                return stand_in.staff_id
        return holders[0].staff_id


def placeholder_assignee(role: str, dealer_id: str) -> str:
    """The id work for ``role`` goes to when the dealer lists nobody with it, e.g.
    ``gm:D001`` / ``sales-manager:D001`` (a staff front end shows it as unassigned)."""
    return f"{role.replace('_', '-')}:{dealer_id}"


class DealerSettings(PolicyGroup):
    """The effective configuration of one dealer."""

    profile: DealerProfile = Field(
        default_factory=DealerProfile, description="Name, dealer group and address."
    )
    policy: DealerPolicy = Field(
        default_factory=DealerPolicy, description="Every rule number, the calendar included."
    )
    people: DealerPeople = Field(
        default_factory=DealerPeople, description="Staff by role and the OEM/region contact."
    )

    def assignee(self, role: StaffRole, dealer_id: str, on: date) -> str:
        """The staff id work for ``role`` goes to on the dealer-local date ``on``
        (`DealerPeople.holder_of`), or the role's placeholder when nobody holds it."""
        return self.people.holder_of(role, on) or placeholder_assignee(role.value, dealer_id)

    def local_today(self, moment: datetime) -> date:
        """The dealer-local date of ``moment`` (aware)."""
        return moment.astimezone(self.policy.calendar.tz).date()

    def display_name(self, dealer_id: str) -> str:
        """How messages name the dealer."""
        return self.profile.name or dealer_id


class CalendarYear(PolicyGroup):
    """One year of official dates (e.g. China's State Council holiday notice)."""

    year: int = Field(ge=2000, le=2100)
    holidays: frozenset[date] = Field(default_factory=frozenset)
    makeup_working_days: frozenset[date] = Field(
        default_factory=frozenset, description="Weekend days made working days (调休上班)."
    )

    @field_serializer("holidays", "makeup_working_days")
    def _sorted(self, days: frozenset[date]) -> list[date]:
        return sorted(days)

    @model_validator(mode="after")
    def _check(self) -> CalendarYear:
        outside = sorted(d for d in self.holidays | self.makeup_working_days if d.year != self.year)
        if outside:
            raise ValueError(f"dates outside {self.year}: {', '.join(map(str, outside))}")
        both = sorted(self.holidays & self.makeup_working_days)
        if both:
            raise ValueError(f"both holiday and make-up day: {', '.join(map(str, both))}")
        return self

    def merged_into(self, calendar: CalendarPolicy) -> dict[str, list[date]]:
        """``calendar``'s holidays and make-up days with this year's dates replacing the
        ones of that year (other years stay): the two calendar overrides to store."""

        def merged(current: frozenset[date], this_year: frozenset[date]) -> list[date]:
            return sorted({d for d in current if d.year != self.year} | this_year)

        return {
            "holidays": merged(calendar.holidays, self.holidays),
            "makeup_working_days": merged(calendar.makeup_working_days, self.makeup_working_days),
        }


def settings_with_overrides(*layers: Mapping[str, Any] | None) -> DealerSettings:
    """The defaults with each layer of partial overrides merged in, later layers winning
    (nested mappings merge key by key, lists and scalars replace). Raises
    `pydantic.ValidationError` naming each bad field."""
    merged: dict[str, Any] = DealerSettings().model_dump(mode="python")
    for layer in layers:
        merged = merge_overrides(merged, layer or {})
    return DealerSettings.model_validate(merged)


def apply_merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON merge patch of ``target`` (overrides): nested objects merge, ``null``
    removes a key (back to the inherited value), anything else replaces."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            current = result.get(key)
            result[key] = apply_merge_patch(current if isinstance(current, Mapping) else {}, value)
        else:
            result[key] = value
    return result
