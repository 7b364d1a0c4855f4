"""docs/security.md carries the role table of the committed OpenAPI documents."""

from __future__ import annotations

from role_table import DOC, with_table


def test_the_role_table_is_current() -> None:
    document = DOC.read_text("utf-8")
    assert with_table(document) == document, (
        "docs/security.md is stale: run `uv run python tests/security/role_table.py --write`"
    )
