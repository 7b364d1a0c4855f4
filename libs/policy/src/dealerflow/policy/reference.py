"""The reference table of every dealer setting, generated from `DealerSettings`.

``python -m dealerflow.policy.reference`` prints (``--write docs/dealer-configuration.md``
updates) the Markdown table that
docs/dealer-configuration.md carries between its ``settings-reference`` markers (a test
fails when the two drift). Each row: the setting's path in the configuration document, its
default (JSON, as the API shows it), its type or unit, which services use it, and its
description.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dealerflow.policy.dealer_settings import DealerSettings
from dealerflow.policy.primitives import SlaSpec

__all__ = ["BEGIN", "END", "USED_BY", "reference_rows", "reference_table", "with_reference"]

BEGIN = "<!-- settings-reference:begin (generated: python -m dealerflow.policy.reference) -->"
END = "<!-- settings-reference:end -->"

#: Which services read a setting, by the longest matching path prefix (checked against
#: services/*/src: a service "reads" a setting when its code, or a `dealerflow.policy`
#: helper it calls, uses the value; a setting nobody reads says so, with the issue that
#: is to read it).
_OPENING_HOURS = "complaints (business-time clocks), notifier (SLAs, retries on business days)"
_STAFF = "leads (consultants), sales (discount approver), complaints, notifier (assignees)"
USED_BY: dict[str, str] = {
    "profile.name": "notifier (messages name the dealer)",
    "profile.group_id": "dealers (inheritance), leads (customer identity)",
    "profile.address": "none yet (no issue plans a reader; shown by dealers only)",
    "profile.staff_locale": "notifier (staff task texts)",
    "policy.calendar": _OPENING_HOURS,
    "policy.calendar.time_zone": "leads, sales, service-center, complaints, notifier",
    "policy.calendar.holidays": f"{_OPENING_HOURS}, dealers (yearly import)",
    "policy.calendar.makeup_working_days": f"{_OPENING_HOURS}, dealers (yearly import)",
    "policy.calendar.working_weekdays": "complaints, notifier (working_days clocks)",
    "policy.contact": "notifier",
    "policy.leads": "notifier",
    "policy.leads.assignment_strategy": "leads",
    "policy.leads.reassign_after_breaches": "notifier (reassign watch), leads (reassigns)",
    "policy.leads.follow_up_every": "leads (next contact date), notifier (follow-up tasks)",
    "policy.leads.purchase_horizon": "leads (a lead's expected order date)",
    "policy.owner_care": "notifier",
    "policy.service": "service-center",
    "policy.service.followup_after_handover": "notifier",
    "policy.service.unreachable_days_before_message": "notifier",
    "policy.service.declined_item_followup_after": "service-center, notifier",
    "policy.service.at_risk_after_months": "none yet (issue 12)",
    "policy.service.lost_after_months": "none yet (issue 12)",
    "policy.service.tier_min_visits_per_year": "none yet (issue 12)",
    "policy.complaints": "complaints",
    "policy.sales": "sales",
    "policy.tiers": "notifier (customer tiers: CustomerTierChanged)",
    "policy.care": "notifier (care calendar)",
    "people.staff[]": _STAFF,
    "people.staff[].name": "leads (consultant list)",
    "people.staff[].on_duty": "leads (new-lead assignment)",
    "people.staff[].replaced_by": "leads (consultant list), sales, complaints, notifier",
    "people.oem_region.name": "complaints (top rung without staff_id)",
    "people.oem_region.staff_id": "complaints, notifier",
    "people.oem_region.webhook_url": "notifier (the OEM/region escalation alert is POSTed there)",
}


def _used_by(path: str) -> str:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        found = USED_BY.get(".".join(parts[:end]))
        if found:
            return found
    return ""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " or null"
    if origin in (list, frozenset, set, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map {_type_name(args[0])} → {_type_name(args[1])}"
    simple = {
        timedelta: "duration (ISO 8601, e.g. PT15M)",
        time: "local time HH:MM",
        date: "date YYYY-MM-DD",
        Decimal: "decimal",
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "text",
    }
    if annotation in simple:
        return simple[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(json.dumps(member.value) for member in annotation)
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation)


def reference_rows(
    value: BaseModel | None = None, prefix: str = "", context: str = ""
) -> list[tuple[str, str, str, str, str]]:
    """(path, default, type, used by, description) for every leaf setting of ``value``
    (default: the defaults); groups, and maps of groups (per severity, per channel class),
    are walked into. The rows of a clock (`SlaSpec`: duration, mode) say which clock it
    is: ``context`` is the description of the field that holds it."""
    node = DealerSettings() if value is None else value
    rows: list[tuple[str, str, str, str, str]] = []
    for name, info in type(node).model_fields.items():
        path = f"{prefix}{name}"
        current = getattr(node, name)
        inner = info.description or ""
        if isinstance(current, BaseModel):
            rows += reference_rows(current, path + ".", inner)
            continue
        if (
            isinstance(current, dict)
            and current
            and all(isinstance(v, BaseModel) for v in current.values())
        ):
            for key, item in current.items():
                rows += reference_rows(item, f"{path}.{key}.", inner)
            continue
        element = _list_element(info.annotation)
        if element is not None and not current:
            rows += _element_rows(element, f"{path}[].")
            continue
        default = json.dumps(
            node.model_dump(mode="json", include={name})[name],
            ensure_ascii=False,
            separators=(", ", ": "),
        )
        own = info.description or ""
        if isinstance(node, SlaSpec) and context:
            own = f"{context.rstrip('.')}. {own}"
        description = own.replace("\n", " ").replace("|", "\\|")
        rows.append(
            (
                path,
                default.replace("|", "\\|"),
                _type_name(info.annotation),
                _used_by(path),
                description,
            )
        )
    return rows


def _list_element(annotation: Any) -> type[BaseModel] | None:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list and args:
        element = args[0]
        if isinstance(element, type) and issubclass(element, BaseModel):
            return element
    return None


def _element_rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str, str, str]]:
    """Rows of the fields of a list's items (e.g. each staff member)."""
    rows = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if info.is_required():
            default = "required"
        else:
            value = info.get_default(call_default_factory=True)
            dumped = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            default = json.dumps(dumped, ensure_ascii=False, default=str)
        description = (info.description or "").replace("|", "\\|")
        rows.append((path, default, _type_name(info.annotation), _used_by(path), description))
    return rows


def reference_table() -> str:
    """The Markdown table of every setting (between the doc's markers)."""
    lines = [
        "| setting | default | type / unit | used by | meaning |",
        "|---|---|---|---|---|",
    ]
    for path, default, kind, used_by, description in reference_rows():
        lines.append(f"| `{path}` | `{default}` | {kind} | {used_by} | {description} |")
    return "\n".join(lines) + "\n"


def with_reference(document: str) -> str:
    """``document`` with the table between its markers replaced by the current one."""
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError("the document has no settings-reference markers")
    return f"{head}{BEGIN}\n{reference_table()}{END}{tail}"


def main(argv: list[str]) -> int:
    """Print the table, or with ``--write PATH`` update the document at PATH."""
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(with_reference(path.read_text("utf-8")), "utf-8")
        return 0
    sys.stdout.write(reference_table())
    return 0


if __name__ == "__main__":  # pragma: no cover - CLI
    sys.exit(main(sys.argv[1:]))
