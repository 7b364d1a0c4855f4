"""A static model of the workspace's source for the architecture tests.

It reads files with :mod:`ast` and never imports what it inspects: the modules of each
member (services, libs, contracts), what each module imports, the SQL literals it holds,
and an approximate call graph of one service package (which top-level names the code of
which other names refers to). Tests and migrations are not part of a package's code.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: The pseudo-name of a module's top-level statements that define no name (they run when
#: the module is imported, so whoever reaches the module reaches them).
MODULE_BODY = "<module>"


@dataclass(frozen=True)
class Module:
    """One Python source file of a member's ``src`` tree."""

    name: str  # dotted, e.g. "dealerflow.leads.domain"
    path: Path

    @property
    def basename(self) -> str:
        """The last part of the dotted name (``domain_grading``)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def where(self) -> str:
        """The path relative to the repository, for messages."""
        if self.path.is_relative_to(REPO):
            return self.path.relative_to(REPO).as_posix()
        return self.path.as_posix()

    @property
    def tree(self) -> ast.Module:
        return _parse(self.path)


@functools.cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def modules_of(src: Path) -> tuple[Module, ...]:
    """Every module under a member's ``src`` directory, sorted by name."""
    found = []
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append(Module(".".join(parts), path))
    return tuple(found)


@dataclass(frozen=True)
class Service:
    """A service of the workspace: ``services/<name>/src/dealerflow/<package>``."""

    name: str  # as the catalogue names it: "service-center"
    package: str  # "service_center"

    @property
    def src(self) -> Path:
        return REPO / "services" / self.name / "src"

    @property
    def dotted(self) -> str:
        return f"dealerflow.{self.package}"

    @property
    def root(self) -> Path:
        return self.src / "dealerflow" / self.package

    def modules(self) -> tuple[Module, ...]:
        return modules_of(self.src)


def _discover_services() -> tuple[Service, ...]:
    services = []
    for member in sorted((REPO / "services").iterdir()):
        packages = list((member / "src" / "dealerflow").glob("*/__init__.py"))
        if len(packages) == 1:
            services.append(Service(member.name, packages[0].parent.name))
    return tuple(services)


SERVICES: tuple[Service, ...] = _discover_services()
SERVICES_BY_NAME = {service.name: service for service in SERVICES}
LIBS: tuple[Path, ...] = tuple(sorted(p / "src" for p in (REPO / "libs").iterdir() if p.is_dir()))
CONTRACTS = REPO / "contracts" / "src"


def within(name: str, package: str) -> bool:
    """Whether dotted ``name`` is ``package`` or inside it."""
    return name == package or name.startswith(package + ".")


# -- imports -------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One imported name: ``import a.b`` gives ``a.b``, ``from a.b import c`` gives
    ``a.b.c`` (a module or a name in one; the rules only look at prefixes)."""

    module: Module
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.module.where}:{self.line}: imports {self.target}"


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: Module) -> Iterator[Import]:
    """Every import anywhere in the module (TYPE_CHECKING blocks and functions too)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            for alias in node.names:
                yield Import(module, node.lineno, f"{base}.{alias.name}")


# -- SQL literals ----------------------------------------------------------------------

#: A string that starts like an SQL statement (at the start of any of its lines): the
#: keyword with the shape that follows it, so prose ("Create the task...") does not match.
SQL_STATEMENT = re.compile(
    r"""^\s*(
        SELECT\b
      | INSERT\s+INTO\b
      | UPDATE\s+[\w."{}]+\s+SET\b
      | DELETE\s+FROM\b
      | WITH\s+(RECURSIVE\s+)?\w+\s+AS\s*(NOT\s+)?(MATERIALIZED\s+)?\(
      | CREATE\s+(OR\s+REPLACE\s+|UNIQUE\s+)?
            (TABLE|INDEX|SCHEMA|TYPE|FUNCTION|TRIGGER|VIEW|SEQUENCE|EXTENSION|POLICY)\b
      | ALTER\s+(TABLE|INDEX|SCHEMA|TYPE|SEQUENCE|POLICY)\b
      | DROP\s+(TABLE|INDEX|SCHEMA|TYPE|SEQUENCE|POLICY)\b
      | TRUNCATE\b
      | LOCK\s+TABLE\b
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)


@dataclass(frozen=True)
class SqlLiteral:
    """A string constant (or f-string) of a module that looks like SQL."""

    module: Module
    line: int
    scope: str  # the top-level name it sits in, or MODULE_BODY
    text: str

    def __str__(self) -> str:
        first = self.text.strip().splitlines()[0]
        return f"{self.module.where}:{self.line} ({self.scope}): {first[:60]!r}"


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _string_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return None


def sql_literals(module: Module) -> list[SqlLiteral]:
    """Every non-docstring string of the module that starts like an SQL statement."""
    docstrings = _docstrings(module.tree)
    found = []
    for statement in module.tree.body:
        scope = _defined_names(statement)
        parts_of_fstrings = {
            id(part)
            for node in ast.walk(statement)
            if isinstance(node, ast.JoinedStr)
            for part in node.values
        }
        for node in ast.walk(statement):
            if id(node) in docstrings or id(node) in parts_of_fstrings:
                continue
            text = _string_of(node)
            if text is not None and SQL_STATEMENT.search(text):
                assert isinstance(node, ast.expr)
                found.append(
                    SqlLiteral(module, node.lineno, scope[0] if scope else MODULE_BODY, text)
                )
    return found


# -- call graph --------------------------------------------------------------------------

Node = tuple[str, str]  # (module name, top-level name or MODULE_BODY)


def _defined_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    names = []
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.append(node.id)
    return names


def _top_level(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's statements, looking into top-level if/try/with blocks."""
    for statement in body:
        if isinstance(statement, ast.If | ast.Try | ast.With):
            yield from _top_level(statement.body)
            yield from _top_level(getattr(statement, "orelse", []))
            yield from _top_level(getattr(statement, "finalbody", []))
            for handler in getattr(statement, "handlers", []):
                yield from _top_level(handler.body)
        else:
            yield statement


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"] when it is a chain of names, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class CallGraph:
    """Which top-level names of a package refer to which others (approximate).

    A node is a module's top-level function, class or variable (plus MODULE_BODY, the
    statements that define nothing). Its edges are the names its definition refers to,
    resolved through the module's imports (``from pkg import mod`` then ``mod.f``,
    ``from pkg.mod import f``, re-exports followed). Reaching a class reaches all its
    methods (the body is one definition); reaching any name of a module reaches its
    MODULE_BODY. Names the package does not define (libraries) are not followed.
    """

    def __init__(self, modules: Iterable[Module]) -> None:
        self.modules = {module.name: module for module in modules}
        self._definitions: dict[str, dict[str, list[ast.stmt]]] = {}
        self._aliases: dict[str, dict[str, str]] = {}
        for module in self.modules.values():
            definitions: dict[str, list[ast.stmt]] = {MODULE_BODY: []}
            aliases: dict[str, str] = {}
            for statement in _top_level(module.tree.body):
                if isinstance(statement, ast.Import):
                    for alias in statement.names:
                        if alias.asname:
                            aliases[alias.asname] = alias.name
                        else:
                            head = alias.name.split(".")[0]
                            aliases[head] = head
                elif isinstance(statement, ast.ImportFrom):
                    base = _absolute(module, statement)
                    for alias in statement.names:
                        aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
                else:
                    for name in _defined_names(statement) or [MODULE_BODY]:
                        definitions.setdefault(name, []).append(statement)
            self._definitions[module.name] = definitions
            self._aliases[module.name] = aliases
        self._edges: dict[Node, set[Node]] = {}

    def nodes(self, module: str) -> list[Node]:
        """Every node of ``module``."""
        return [(module, name) for name in self._definitions[module]]

    def definition(self, node: Node) -> list[ast.stmt]:
        return self._definitions[node[0]][node[1]]

    def resolve(self, dotted: str, _seen: frozenset[str] = frozenset()) -> Node | None:
        """The node a dotted name denotes inside the package, following re-exports."""
        if dotted in _seen:
            return None
        if dotted in self.modules:
            return (dotted, MODULE_BODY)
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module not in self.modules:
                continue
            first, rest = parts[cut], parts[cut + 1 :]
            if first in self._definitions[module]:
                return (module, first)
            if first in self._aliases[module]:
                target = ".".join([self._aliases[module][first], *rest])
                return self.resolve(target, _seen | {dotted})
            return None
        return None

    def _local(self, module: str, parts: list[str]) -> Node | None:
        head = parts[0]
        if head in self._definitions[module]:
            return (module, head)
        if head in self._aliases[module]:
            return self.resolve(".".join([self._aliases[module][head], *parts[1:]]))
        return None

    def edges(self, node: Node) -> set[Node]:
        """The nodes ``node``'s definition refers to (and its module's body)."""
        if node not in self._edges:
            module = node[0]
            found = {(module, MODULE_BODY)}
            for statement in self.definition(node):
                for sub in ast.walk(statement):
                    if isinstance(sub, ast.Attribute | ast.Name):
                        parts = _dotted(sub)
                        target = self._local(module, parts) if parts else None
                        if target is not None:
                            found.add(target)
            found.discard(node)
            self._edges[node] = found
        return self._edges[node]

    def reachable(self, roots: Iterable[Node]) -> set[Node]:
        """Every node reachable from ``roots`` (roots included)."""
        seen: set[Node] = set()
        todo = list(roots)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo.extend(self.edges(node) - seen)
        return seen


# -- known violations ----------------------------------------------------------------------


def against_known(found: Mapping[str, str], known: Iterable[str], list_name: str) -> list[str]:
    """Problems of a rule: violations found that are not listed as known (by key, with
    their message), and listed ones that no longer exist (so the list cannot go stale)."""
    known = set(known)
    problems = [message for key, message in sorted(found.items()) if key not in known]
    problems += [
        f"{key}: no longer a violation, remove it from {list_name}"
        for key in sorted(known - set(found))
    ]
    return problems
