"""The rules of dealer configuration, pure: which part of the overrides a section is, how
a replace or a merge patch changes a store's or a group's overrides, which sections a
change touched, and the 422 errors (JSON pointers into the request body) of a
configuration that does not validate.

A store's effective configuration is ``settings_with_overrides(*environment, group
overrides, store overrides)``; a group's is the same without the store layer (what a
store of the group that set nothing gets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from dealerflow.policy import (
    CalendarPolicy,
    CalendarYear,
    DealerSettings,
    apply_merge_patch,
    settings_with_overrides,
)

__all__ = [
    "DEALER_SECTIONS",
    "GROUP_ID_PATTERN",
    "GROUP_SECTIONS",
    "ChangeKind",
    "InvalidConfiguration",
    "Owner",
    "Section",
    "calendar_year_patch",
    "changed_sections",
    "compact",
    "effective_configuration",
    "group_of",
    "overrides_after",
    "section_of",
]

Owner = Literal["dealer", "group"]
#: A dealer group id (as DealerProfile.group_id and DealerConfigured.group_id).
GROUP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ChangeKind = Literal["replace", "merge_patch"]


class Section(StrEnum):
    """A part of a dealer's configuration with endpoints of its own."""

    PROFILE = "profile"  # profile
    CALENDAR = "calendar"  # policy.calendar
    RULES = "rules"  # policy without calendar
    PEOPLE = "people"  # people

    @property
    def path(self) -> tuple[str, ...]:
        """Where the section lives in a DealerSettings document."""
        return _PATHS[self]


_PATHS: dict[Section, tuple[str, ...]] = {
    Section.PROFILE: ("profile",),
    Section.CALENDAR: ("policy", "calendar"),
    Section.RULES: ("policy",),
    Section.PEOPLE: ("people",),
}

DEALER_SECTIONS: tuple[Section, ...] = tuple(Section)
#: A group has no profile: name, address and the group a store belongs to are per store.
GROUP_SECTIONS: tuple[Section, ...] = (Section.CALENDAR, Section.RULES, Section.PEOPLE)


@runtime_checkable
class FieldErrors(Protocol):
    """A validation error that lists its fields (``pydantic.ValidationError``: the policy
    models raise it; the domain names no library)."""

    def errors(self) -> Any: ...


class InvalidConfiguration(ValueError):
    """Overrides that do not make a valid configuration; ``errors`` names each bad field
    (``pointer``: JSON pointer into the request body, ``loc``: the path in the
    configuration), answered as a 422 problem."""

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self.errors = [dict(e) for e in errors]
        super().__init__(f"{len(self.errors)} invalid setting(s)")

    @property
    def problem_extensions(self) -> Mapping[str, Any]:
        return {"errors": self.errors}

    @classmethod
    def at(
        cls, loc: Sequence[str | int], msg: str, *, prefix: Sequence[str] = ()
    ) -> InvalidConfiguration:
        """One error at ``loc`` (a configuration path) for a body at ``prefix``."""
        return cls([_error(tuple(loc), msg, "value_error", tuple(prefix))])

    @classmethod
    def of(
        cls, exc: FieldErrors, *, prefix: Sequence[str] = (), dealer_id: str | None = None
    ) -> InvalidConfiguration:
        """The errors of ``exc`` (from validating a whole DealerSettings document) for a
        request body that is the document's part at ``prefix``; ``dealer_id`` names the
        store whose configuration failed (a group change that breaks one of its stores)."""
        errors = []
        for err in exc.errors():
            error = _error(tuple(err["loc"]), str(err["msg"]), str(err["type"]), tuple(prefix))
            if dealer_id is not None:
                error["dealer_id"] = dealer_id
            errors.append(error)
        return cls(errors)


def _pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _error(
    loc: tuple[str | int, ...], msg: str, kind: str, prefix: tuple[str, ...]
) -> dict[str, Any]:
    # The pointer is relative to the request body when the field is inside it; a field
    # elsewhere (e.g. a store's own overrides broken by a group change) is pointed at from
    # the configuration's root.
    inside = loc[: len(prefix)] == prefix
    return {
        "pointer": _pointer(loc[len(prefix) :] if inside else loc),
        "loc": [str(p) for p in loc],
        "msg": msg,
        "type": kind,
    }


def effective_configuration(
    layers: Sequence[Mapping[str, Any] | None],
    *,
    prefix: Sequence[str] = (),
    dealer_id: str | None = None,
) -> DealerSettings:
    """``settings_with_overrides(*layers)``; `InvalidConfiguration` naming each bad field
    relative to a request body at ``prefix``."""
    try:
        return settings_with_overrides(*layers)
    except ValueError as exc:
        if not isinstance(exc, FieldErrors):
            raise
        raise InvalidConfiguration.of(exc, prefix=prefix, dealer_id=dealer_id) from exc


def _get(document: Mapping[str, Any], path: Sequence[str]) -> Any:
    current: Any = document
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def section_of(document: Mapping[str, Any], section: Section | None) -> dict[str, Any]:
    """The part of a (partial or full) DealerSettings document a section is (the whole
    document for None); rules leave the calendar out."""
    if section is None:
        return dict(document)
    found = _get(document, section.path)
    part = dict(found) if isinstance(found, Mapping) else {}
    if section is Section.RULES:
        part.pop("calendar", None)
    return part


def _with_section(
    overrides: Mapping[str, Any], section: Section, part: Mapping[str, Any]
) -> dict[str, Any]:
    # the overrides with ``part`` as the section (rules keep the calendar they had)
    if section is Section.RULES:
        calendar = _get(overrides, ("policy", "calendar"))
        part = {**part, "calendar": calendar} if calendar is not None else part
    head, *rest = section.path
    if rest:  # the calendar: inside policy
        part = {**(overrides.get(head) or {}), rest[0]: dict(part)}
    return {**overrides, head: dict(part)}


def overrides_after(
    current: Mapping[str, Any],
    *,
    owner: Owner,
    section: Section | None,
    kind: ChangeKind,
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """The overrides of a store or group after a replace (PUT) or RFC 7396 merge patch
    (PATCH) of the whole document (``section`` None) or of one section. Refuses (422)
    what the endpoint cannot set: a profile for a group, a calendar through rules."""
    prefix = section.path if section is not None else ()
    if owner == "group" and section is None and "profile" in body:
        raise InvalidConfiguration.at(
            ("profile",), "a dealer group has no profile: set it per store", prefix=prefix
        )
    if section is Section.RULES and "calendar" in body:
        raise InvalidConfiguration.at(
            ("policy", "calendar"),
            "the calendar has its own endpoint: /calendar",
            prefix=prefix,
        )
    if section is None:
        after = apply_merge_patch({} if kind == "replace" else current, body)
    else:
        before = section_of(current, section)
        part = apply_merge_patch({} if kind == "replace" else before, body)
        after = _with_section(current, section, part)
    return compact(after)


def compact(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` without empty objects: overrides merge object by object, so an empty
    one sets nothing (a merge patch that removed a section's last key leaves none behind;
    a null in a replace body is dropped the same way)."""
    result: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            value = compact(value)
            if not value:
                continue
        if value is not None:
            result[key] = value
    return result


def changed_sections(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], *, owner: Owner = "dealer"
) -> list[Section]:
    """The sections whose effective values differ between two full configurations (all
    of the owner's sections when there is no ``before``)."""
    sections = DEALER_SECTIONS if owner == "dealer" else GROUP_SECTIONS
    if before is None:
        return list(sections)
    return [s for s in sections if section_of(before, s) != section_of(after, s)]


def group_of(
    environment: Sequence[Mapping[str, Any]],
    overrides: Mapping[str, Any],
    *,
    prefix: Sequence[str] = (),
) -> str | None:
    """The dealer group a store with ``overrides`` belongs to (its profile, else the
    environment's); raises `InvalidConfiguration` when the store's own layer is invalid."""
    return effective_configuration([*environment, overrides], prefix=prefix).profile.group_id


def calendar_year_patch(
    configuration: Mapping[str, Any],
    year: int,
    holidays: Iterable[date],
    makeup_working_days: Iterable[date],
) -> dict[str, Any]:
    """The merge patch that makes ``year``'s official dates those of the calendar of
    ``configuration`` (an effective one): the other years' dates stay. `InvalidConfiguration`
    when the dates are not of that year or a day is both a holiday and a make-up day."""
    try:
        official = CalendarYear(
            year=year,
            holidays=frozenset(holidays),
            makeup_working_days=frozenset(makeup_working_days),
        )
    except ValueError as exc:
        if not isinstance(exc, FieldErrors):
            raise
        raise InvalidConfiguration.of(exc) from exc
    calendar = CalendarPolicy.model_validate(configuration["policy"]["calendar"])
    merged = official.merged_into(calendar)
    return {"policy": {"calendar": {k: [d.isoformat() for d in v] for k, v in merged.items()}}}
