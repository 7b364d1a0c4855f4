"""Every public rule and use case is reached from an entry point (issue 7, point 4).

A public (no leading underscore) top-level function of a service's ``domain*.py`` or
``usecases*.py`` that no endpoint, consumer or timer reaches fails: wire it, or delete it
and its test. Reached means: reachable in the package's static call graph
(:class:`tests.architecture.codebase.CallGraph`) from every top-level name of the entry
modules ``api*.py``, ``consumers.py``, ``timers.py``, ``app.py`` and ``__main__.py``.
The graph is approximate on the generous side (a name counts as reached once any reached
code refers to it; a class reaches all its methods); tests never count as reachers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.architecture.codebase import (
    SERVICES,
    CallGraph,
    Module,
    Service,
    against_known,
    modules_of,
)

ENTRY_MODULE = re.compile(r"^(api(_\w+)?|consumers|timers|app|__main__)$")
CHECKED_MODULE = re.compile(r"^(domain|usecases)(_\w+)?$")

#: Public rules no entry point reaches yet, each with the issue that wires it (like a
#: ``Planned`` marker in the event catalogue): "<module>.<function>" -> issue number.
#: The test fails when a listed function becomes reached (remove it then) or is deleted,
#: so the list cannot go stale; anything unreached and unlisted fails at once.
PLANNED_WIRING: Mapping[str, int] = {
    # issue 12: the maintenance and retention calendar (MaintenanceDue, CustomerAtRisk)
}
OPEN_ISSUES = range(8, 19)  # the issues after this one (8-18)


def unreached_functions(modules: Sequence[Module]) -> dict[str, str]:
    """Public functions of the checked modules no entry module reaches:
    ``"<module>.<function>"`` -> a message with file and line."""
    code = [m for m in modules if ".migrations" not in m.name]
    graph = CallGraph(code)
    roots = [node for m in code if ENTRY_MODULE.match(m.basename) for node in graph.nodes(m.name)]
    reached = graph.reachable(roots)
    found = {}
    for module in code:
        if not CHECKED_MODULE.match(module.basename):
            continue
        for statement in module.tree.body:
            if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if statement.name.startswith("_") or (module.name, statement.name) in reached:
                continue
            found[f"{module.name}.{statement.name}"] = (
                f"{module.where}:{statement.lineno}: {statement.name} is reached by no "
                "endpoint, consumer or timer (wire it, or delete it and its test)"
            )
    return found


def test_planned_wiring_names_our_services_and_an_open_issue() -> None:
    packages = tuple(f"{s.dotted}." for s in SERVICES)
    assert [v for v in sorted(PLANNED_WIRING) if not v.startswith(packages)] == []
    assert {v: n for v, n in PLANNED_WIRING.items() if n not in OPEN_ISSUES} == {}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_public_rule_and_use_case_is_reached(service: Service) -> None:
    found = unreached_functions(service.modules())
    known = {v for v in PLANNED_WIRING if v.startswith(f"{service.dotted}.")}
    problems = against_known(found, known, "PLANNED_WIRING")
    assert problems == [], "\n".join(problems)


def test_the_call_graph_follows_imports_aliases_and_classes(tmp_path: Path) -> None:
    package = tmp_path / "src" / "shop"
    package.mkdir(parents=True)
    files = {
        "__init__.py": "",
        "api.py": (
            "from shop import usecases as uc\n"
            "from shop.schemas import QuoteView\n"
            "async def post_quote(body):\n"
            "    return QuoteView.of(await uc.issue_quote(body))\n"
        ),
        "schemas.py": (
            "from shop.domain import total\n"
            "class QuoteView:\n"
            "    @classmethod\n"
            "    def of(cls, quote):\n"
            "        return cls(total(quote))\n"
        ),
        "usecases.py": (
            "from shop import domain\n"
            "async def issue_quote(cmd):\n"
            "    return domain.price(cmd)\n"
            "async def orphan_use_case(cmd):\n"
            "    return domain.discount(cmd)\n"
        ),
        "domain.py": (
            "from shop.domain_tax import price\n"
            "RULES = {'vat': lambda q: vat(q)}\n"
            "def total(q):\n"
            "    return RULES\n"
            "def vat(q):\n"
            "    return q\n"
            "def discount(q):\n"
            "    return q\n"
            "def _private(q):\n"
            "    return q\n"
        ),
        "domain_tax.py": ("def price(q):\n    return q\ndef only_tested(q):\n    return q\n"),
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    found = unreached_functions(modules_of(tmp_path / "src"))
    # price through a re-export, vat through a variable, total through a class method
    assert sorted(found) == [
        "shop.domain.discount",
        "shop.domain_tax.only_tested",
        "shop.usecases.orphan_use_case",
    ]
