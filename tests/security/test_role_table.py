"""docs/security.md carries the role table of the committed OpenAPI documents.

Every /v1 operation of every service with the roles that may call it (``x-roles``, which
the runtime takes from the route's ``allow(...)``); admin may call everything.
``uv run python tests/security/test_role_table.py --write`` updates the document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
BEGIN = (
    "<!-- role-table:begin (generated: uv run python tests/security/test_role_table.py --write) -->"
)
END = "<!-- role-table:end -->"
ORDER = ("dealers", "leads", "sales", "service-center", "complaints", "notifier")


def role_table() -> str:
    lines = ["| service | operation | roles (admin: every operation) |", "|---|---|---|"]
    for service in ORDER:
        document = json.loads((ROOT / "docs" / "openapi" / f"{service}.json").read_text("utf-8"))
        for path, methods in sorted(document["paths"].items()):
            if not path.startswith("/v1"):
                continue
            for method, operation in sorted(methods.items()):
                roles = ", ".join(r for r in operation.get("x-roles", []) if r != "admin")
                if operation.get("x-public"):
                    checked = (
                        "the provider's signature or secret path"
                        if path.startswith("/v1/receipts/")
                        else "the signed token in the link"
                    )
                    roles = f"public (no token: {checked})"
                lines.append(f"| {service} | `{method.upper()} {path}` | {roles or 'admin only'} |")
    return "\n".join(lines) + "\n"


def with_table(document: str) -> str:
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOC} has no role-table markers")
    return f"{head}{BEGIN}\n{role_table()}{END}{tail}"


def test_the_role_table_is_current() -> None:
    document = DOC.read_text("utf-8")
    assert with_table(document) == document, (
        "docs/security.md is stale: run `uv run python tests/security/test_role_table.py --write`"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_table(DOC.read_text("utf-8")), "utf-8")
    else:
        sys.stdout.write(role_table())
