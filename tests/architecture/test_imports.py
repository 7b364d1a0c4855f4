"""Import rules of the workspace (issue 7, point 4), read from the source with ast.

- A service's domain modules (``domain.py``, ``domain_<area>.py``) are pure rules: they
  import only the standard library, ``dealerflow.contracts``, ``dealerflow.policy`` and
  the service's other domain modules (a split ``domain`` is still one layer).
- No service package imports another service's package (they talk through events).
- Libraries never import a service; contracts import no library or service.
- ``dealerflow.policy`` (which domain modules import) does no I/O either: the standard
  library, pydantic, contracts and itself.

Every import counts, also under ``if TYPE_CHECKING:`` and inside functions. Tests and
migrations of a member are not its package code and are not checked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.architecture.codebase import (
    CONTRACTS,
    LIBS,
    REPO,
    SERVICES,
    Import,
    Service,
    imports_of,
    modules_of,
    within,
)

DOMAIN_MODULE = re.compile(r"^domain(_\w+)?$")


def _stdlib(target: str) -> bool:
    return target.split(".")[0] in sys.stdlib_module_names


def _listed(found: list[Import]) -> str:
    return "\n".join(map(str, found))


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_domain_modules_import_only_contracts_policy_and_the_standard_library(
    service: Service,
) -> None:
    def allowed(target: str) -> bool:
        if _stdlib(target) or within(target, "dealerflow.contracts"):
            return True
        if within(target, "dealerflow.policy"):
            return True
        parts = target.split(".")
        return (
            within(target, service.dotted)
            and len(parts) > 2
            and DOMAIN_MODULE.match(parts[2]) is not None
        )

    domain_modules = [m for m in service.modules() if DOMAIN_MODULE.match(m.basename)]
    assert domain_modules, f"{service.name} has no domain module"
    found = [i for m in domain_modules for i in imports_of(m) if not allowed(i.target)]
    assert found == [], "domain modules are pure rules:\n" + _listed(found)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_no_service_imports_another_service(service: Service) -> None:
    others = [s.dotted for s in SERVICES if s != service]
    found = [
        i
        for m in service.modules()
        for i in imports_of(m)
        if any(within(i.target, other) for other in others)
    ]
    assert found == [], "services talk through events, not imports:\n" + _listed(found)


@pytest.mark.parametrize("lib", LIBS, ids=lambda p: p.parent.name)
def test_libraries_import_no_service(lib: Path) -> None:
    found = [
        i
        for m in modules_of(lib)
        for i in imports_of(m)
        if any(within(i.target, s.dotted) for s in SERVICES)
    ]
    assert found == [], "libraries are below the services:\n" + _listed(found)


def test_contracts_import_no_library_or_service() -> None:
    found = [
        i
        for m in modules_of(CONTRACTS)
        for i in imports_of(m)
        if within(i.target, "dealerflow") and not within(i.target, "dealerflow.contracts")
    ]
    assert found == [], "contracts are the bottom layer:\n" + _listed(found)


def test_policy_does_no_io() -> None:
    allowed = ("dealerflow.contracts", "dealerflow.policy", "pydantic")
    found = [
        i
        for m in modules_of(REPO / "libs" / "policy" / "src")
        for i in imports_of(m)
        if not _stdlib(i.target) and not any(within(i.target, a) for a in allowed)
    ]
    assert found == [], "domain modules import policy, so it stays pure:\n" + _listed(found)
