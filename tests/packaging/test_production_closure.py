"""Production code and images carry no development tooling.

An image installs the production dependency closure of one package from uv.lock
(Dockerfile: ``uv sync --frozen --no-dev --package dealerflow-<service>``; the SERVICE=all
tools image: the root project's dependencies, i.e. the six services and their libraries).
None of these closures may reach a test harness or a linter, and no production module may
import development tooling (devinfra, the contract generators, pytest and friends).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK: dict[str, Any] = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
PACKAGES: dict[str, dict[str, Any]] = {p["name"]: p for p in LOCK["package"]}
WORKSPACE_ROOT = "dealerflow"  # the virtual root project: its dependencies = the tools image

SERVICES = ("dealers", "leads", "sales", "service-center", "complaints", "notifier")
# Every production root: what each service image installs, the libraries on their own, and
# the tools image (None: the root project, `uv sync --no-dev` without --package).
PRODUCTION: dict[str, str | None] = {
    **{f"dealerflow-{s}": f"dealerflow-{s}" for s in SERVICES},
    "dealerflow-runtime": "dealerflow-runtime",
    "dealerflow-contracts": "dealerflow-contracts",
    "dealerflow-policy": "dealerflow-policy",
    "tools image": None,
}
# Never in production whatever the dev group says (some may not be in the lock yet).
ALWAYS_FORBIDDEN = {
    "dealerflow-devinfra",
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "testcontainers",
    "hypothesis",
    "hypothesis-jsonschema",
    "ruff",
    "mypy",
    "pre-commit",
}


def _dev_group() -> list[dict[str, Any]]:
    return list(PACKAGES[WORKSPACE_ROOT].get("dev-dependencies", {}).get("dev", []))


def _production_members() -> set[str]:
    return {
        name
        for name in PACKAGES
        if name.startswith("dealerflow-") and name != "dealerflow-devinfra"
    }


def forbidden() -> set[str]:
    """Test/dev tooling: the dev group's packages that no production member asks for itself.

    (httpx is in the dev group for tests and a direct dependency of notifier, which sends
    webhooks with it: allowed where a production member declares it.)
    """
    declared = {
        dep["name"]
        for member in _production_members()
        for dep in PACKAGES[member].get("dependencies", [])
    }
    return ALWAYS_FORBIDDEN | ({dep["name"] for dep in _dev_group()} - declared)


def production_closure(root: str | None) -> set[str]:
    """Names of every package ``root`` installs without the dev group (markers ignored)."""
    start = PACKAGES[WORKSPACE_ROOT if root is None else root]
    todo: list[dict[str, Any]] = list(start.get("dependencies", []))
    if root is not None:
        todo.append({"name": root})
    seen: set[str] = set()
    extras_seen: set[tuple[str, str]] = set()
    while todo:
        dep = todo.pop()
        package = PACKAGES[dep["name"]]
        for extra in dep.get("extra", []):
            if (dep["name"], extra) not in extras_seen:
                extras_seen.add((dep["name"], extra))
                todo += package.get("optional-dependencies", {}).get(extra, [])
        if dep["name"] in seen:
            continue
        seen.add(dep["name"])
        todo += package.get("dependencies", [])
    return seen


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` sets $UV
    assert uv, "uv not found: run the tests with `uv run pytest` (as make test does)"
    return uv


def _member_names_by_path() -> dict[str, str]:
    return {
        Path(p["source"]["editable"]).as_posix(): name
        for name, p in PACKAGES.items()
        if "editable" in p.get("source", {})
    }


def uv_export(root: str | None) -> set[str]:
    """What ``uv export --frozen --no-dev`` says ``root`` installs (the Dockerfile's view)."""
    command = [_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-header"]
    if root is not None:
        command += ["--package", root]
    text = subprocess.run(
        command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=60
    ).stdout
    members = _member_names_by_path()
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-e "):
            names.add(members[line[3:].removeprefix("./")])
        else:
            names.add(re.split(r"[=<>;\[ ]", line, maxsplit=1)[0].lower())
    return names


@pytest.mark.parametrize("image", PRODUCTION)
def test_no_production_closure_reaches_a_test_harness(image: str) -> None:
    closure = production_closure(PRODUCTION[image])
    assert not closure & forbidden(), f"{image} would install {sorted(closure & forbidden())}"


@pytest.mark.parametrize("image", PRODUCTION)
def test_the_lock_reading_agrees_with_uv_export(image: str) -> None:
    assert production_closure(PRODUCTION[image]) == uv_export(PRODUCTION[image])


def test_the_tools_image_has_every_service_and_runtime_but_no_devinfra() -> None:
    closure = production_closure(None)
    assert {f"dealerflow-{s}" for s in SERVICES} | {"dealerflow-runtime"} <= closure
    assert "dealerflow-devinfra" not in closure


def test_the_forbidden_set_is_real() -> None:
    # Guards the guard: the dev group does hold the harness, and devinfra's pytest plugin
    # gets pytest through its extra (installed by the dev group), not as a plain dependency.
    assert {"pytest", "testcontainers", "dealerflow-devinfra"} <= forbidden()
    assert "httpx" not in forbidden()  # notifier's webhook client
    devinfra = PACKAGES["dealerflow-devinfra"]
    assert "pytest" not in {d["name"] for d in devinfra["dependencies"]}
    assert {d["name"] for d in devinfra["optional-dependencies"]["pytest"]} == {"pytest"}
    assert {"name": "dealerflow-devinfra", "extra": ["pytest"]} in _dev_group()
    assert "pytest" not in production_closure("dealerflow-devinfra")


# -- imports -----------------------------------------------------------------------------

# Modules production code must not import (prefix match on the dotted name).
FORBIDDEN_IMPORTS = (
    "pytest",
    "_pytest",
    "testcontainers",
    "hypothesis",
    "hypothesis_jsonschema",
    "yaml",
    "dealerflow.devinfra",
    "dealerflow.contracts.tools",
)
CONTRACTS_TOOLS = ROOT / "contracts" / "src" / "dealerflow" / "contracts" / "tools"


def production_modules() -> Iterator[Path]:
    """Every module that ends up in an image: services, runtime, policy, contracts."""
    trees: Iterable[Path] = [
        *sorted((ROOT / "services").glob("*/src")),
        ROOT / "libs" / "runtime" / "src",
        ROOT / "libs" / "policy" / "src",
        ROOT / "contracts" / "src",
    ]
    for tree in trees:
        for path in sorted(tree.rglob("*.py")):
            if CONTRACTS_TOOLS not in path.parents:
                yield path


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _is_forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IMPORTS)


def test_no_production_module_imports_development_tooling() -> None:
    modules = list(production_modules())
    assert len(modules) > 50  # the trees were found
    offenders = {
        path.relative_to(ROOT).as_posix(): sorted(
            m for m in imported_modules(path) if _is_forbidden(m)
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_contract_generators_are_tools_and_out_of_the_wheel() -> None:
    assert (CONTRACTS_TOOLS / "generate.py").is_file()
    for moved in ("generate", "asyncapi", "eventdocs", "schemas", "compat"):
        assert not (CONTRACTS_TOOLS.parent / f"{moved}.py").exists(), moved
    pyproject = tomllib.loads((ROOT / "contracts" / "pyproject.toml").read_text())
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "src/dealerflow/contracts/tools" in wheel["exclude"]
