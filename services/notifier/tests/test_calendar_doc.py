"""docs/notifier.md's care-calendar table is the one `domain_calendar.CARE_CALENDAR`
gives with the default policy.

``uv run --frozen python services/notifier/tests/test_calendar_doc.py --write`` updates
the document."""

from __future__ import annotations

import sys
from pathlib import Path

from dealerflow.notifier.domain_calendar import effective_calendar
from dealerflow.policy import DealerPolicy

DOC = Path(__file__).resolve().parents[3] / "docs" / "notifier.md"
BEGIN = (
    "<!-- care-calendar:begin (generated: uv run --frozen python "
    "services/notifier/tests/test_calendar_doc.py --write) -->"
)
END = "<!-- care-calendar:end -->"


def _names(classes: tuple[type, ...]) -> str:
    return ", ".join(c.__name__ for c in classes) or "-"


def calendar_table() -> str:
    lines = [
        "| rule key | makes | for | triggered by | when (default numbers) | policy keys | "
        "hours | cancelled by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for effective in effective_calendar(DealerPolicy()):
        rule = effective.rule
        makes = f"{rule.makes} ({rule.purpose})" if rule.purpose else str(rule.makes)
        triggers = _names(rule.triggers)
        if rule.also_from:
            triggers = f"{triggers}; {rule.also_from}" if rule.triggers else rule.also_from
        keys = ", ".join(f"`{k}`" for k in effective.timing.numbers) or "-"
        lines.append(
            f"| `{rule.key}` | {makes} | {rule.who} | {triggers} | {effective.timing.text} | "
            f"{keys} | {rule.hours} | {_names(rule.cancels)} |"
        )
    return "\n".join(lines) + "\n"


def with_table(document: str) -> str:
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOC} has no care-calendar markers")
    return f"{head}{BEGIN}\n{calendar_table()}{END}{tail}"


def test_the_documented_care_calendar_is_current() -> None:
    document = DOC.read_text("utf-8")
    assert with_table(document) == document, (
        "docs/notifier.md is stale: run "
        "`uv run --frozen python services/notifier/tests/test_calendar_doc.py --write`"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_table(DOC.read_text("utf-8")), "utf-8")
    else:
        sys.stdout.write(calendar_table())
