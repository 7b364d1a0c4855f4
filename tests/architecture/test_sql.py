"""SQL lives in repository modules only (issue 7, point 4).

In a service package, a string that starts like an SQL statement (``SELECT ...``,
``INSERT INTO``, ``UPDATE x SET``, ``WITH x AS (``, DDL...; f-strings included,
docstrings not) may appear only in ``repository.py`` / ``repository_<area>.py``, and
``.sql`` files only under ``migrations/``. Contracts and the policy library hold no SQL.

The runtime and devinfra libraries are exempt: they are the infrastructure the
repositories stand on (outbox, inbox, timers, idempotency keys, migrations, test schemas)
and keep their SQL beside the one mechanism it implements.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.architecture.codebase import (
    CONTRACTS,
    REPO,
    SERVICES,
    Module,
    Service,
    modules_of,
    sql_literals,
)

REPOSITORY_MODULE = re.compile(r"^repository(_\w+)?$")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_sql_only_in_repository_modules(service: Service) -> None:
    found = [
        literal
        for module in service.modules()
        if not REPOSITORY_MODULE.match(module.basename)
        for literal in sql_literals(module)
    ]
    assert found == [], "move the SQL into a repository module:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_sql_files_only_in_migrations(service: Service) -> None:
    stray = [
        path.relative_to(REPO).as_posix()
        for path in sorted(service.root.rglob("*.sql"))
        if path.parent.name != "migrations"
    ]
    assert stray == []


@pytest.mark.parametrize(
    "src", [CONTRACTS, REPO / "libs" / "policy" / "src"], ids=["contracts", "policy"]
)
def test_pure_libraries_hold_no_sql(src: Path) -> None:
    found = [literal for module in modules_of(src) for literal in sql_literals(module)]
    assert found == [], "\n".join(map(str, found))


def test_the_detector_finds_statements_and_ignores_prose(tmp_path: Path) -> None:
    source = tmp_path / "usecases.py"
    source.write_text(
        '"""Select the lead; update the grade. Create the task with its due timer."""\n'
        "FIND = 'SELECT lead_id FROM leads WHERE dealer_id = $1'\n"
        "def plan(table):\n"
        '    """Delete from the plan what is done."""\n'
        "    note = 'With grade_after F.'\n"
        "    return f'''\n"
        "        UPDATE {table} SET grade = $2\n"
        "        WHERE lead_id = $1'''\n"
        "class Q:\n"
        "    BUMP = 'with due AS (select 1) delete from timers'\n"
        "    LABEL = 'Insert coin'\n",
        encoding="utf-8",
    )
    found = sql_literals(Module("pkg.usecases", source))
    assert [(f.line, f.scope) for f in found] == [(2, "FIND"), (6, "plan"), (10, "Q")]
