"""Write or check the generated contract artifacts.

    python -m dealerflow.contracts.tools.generate            # write them
    python -m dealerflow.contracts.tools.generate --check    # exit 1 if any committed file drifted
    python -m dealerflow.contracts.tools.generate --release  # copy current schemas to released/
    python -m dealerflow.contracts.tools.generate --draft-tightenings  # allow-list skeleton

Artifacts (paths relative to the repository root):
- contracts/schemas/v<major>/<context>/<EventName>.json   JSON Schema 2020-12 per event
- contracts/asyncapi.json                                   AsyncAPI 3.0 document
- docs/events.md                                            the event catalogue

Not generated: contracts/schemas/released/ (written by --release) and
contracts/schemas/allowed-tightenings.json (reviewed by hand, pruned by --release).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dealerflow.contracts.tools.asyncapi import build_asyncapi
from dealerflow.contracts.tools.compat import (
    AllowedTightening,
    Incompatibility,
    allowances_from_json,
    allowances_to_json,
    apply_allowances,
    compare_schema_sets,
    draft_allowances,
)
from dealerflow.contracts.tools.eventdocs import render_events_md
from dealerflow.contracts.tools.schemas import RELEASED_DIR, event_schemas, render_json

__all__ = [
    "ALLOWED_TIGHTENINGS",
    "artifacts",
    "check",
    "check_compatibility",
    "default_root",
    "load_allowances",
    "main",
    "release",
    "write",
]

SCHEMAS_DIR = Path("contracts/schemas")
ALLOWED_TIGHTENINGS = SCHEMAS_DIR / "allowed-tightenings.json"
_ALLOWANCES_ABOUT = (
    "Constraints the current schemas state beyond the released ones, each already enforced "
    "by the decoder (so no producer that the decoder accepted is affected). The gate accepts "
    "exactly these; --release prunes them. See docs/contracts.md."
)


def default_root() -> Path:
    """The repository root of a source checkout (contracts/src/dealerflow/contracts/tools/...)."""
    return Path(__file__).resolve().parents[5]


def artifacts() -> dict[Path, str]:
    """Every generated file (relative path -> content), rendered in memory."""
    return dict(_render())


@functools.cache
def _render() -> Mapping[Path, str]:
    # Rendering is deterministic for a given set of models, so once per process suffices.
    files = {SCHEMAS_DIR / path: render_json(schema) for path, schema in event_schemas().items()}
    files[Path("contracts/asyncapi.json")] = render_json(build_asyncapi())
    files[Path("docs/events.md")] = render_events_md()
    return MappingProxyType(files)


def _stale_schemas(root: Path, expected: Mapping[Path, str]) -> list[Path]:
    """Committed current-schema files that no event generates any more."""
    base = root / SCHEMAS_DIR
    if not base.is_dir():
        return []
    found = [
        p.relative_to(root)
        for p in base.rglob("*.json")
        if p.relative_to(base).parts[0] != RELEASED_DIR and p != root / ALLOWED_TIGHTENINGS
    ]
    return sorted(p for p in found if p not in expected)


def check(root: Path) -> list[str]:
    """Problems with the committed artifacts under `root` (empty when up to date)."""
    expected = artifacts()
    problems = []
    for path, content in expected.items():
        target = root / path
        if not target.exists():
            problems.append(f"{path}: missing")
        elif target.read_text(encoding="utf-8") != content:
            problems.append(f"{path}: out of date")
    problems += [
        f"{path}: stale (no event generates it)" for path in _stale_schemas(root, expected)
    ]
    return problems


def write(root: Path) -> list[Path]:
    """Write every artifact under `root`, delete stale schemas; return changed paths."""
    expected = artifacts()
    changed = []
    for path, content in expected.items():
        target = root / path
        if target.exists() and target.read_text(encoding="utf-8") == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        changed.append(path)
    for path in _stale_schemas(root, expected):
        (root / path).unlink()
        changed.append(path)
    return changed


def _load(base: Path) -> dict[str, Any]:
    if not base.is_dir():
        return {}
    return {
        p.relative_to(base).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(base.rglob("*.json"))
    }


def load_allowances(root: Path) -> list[AllowedTightening]:
    """The reviewed allow-list of tightenings under `root` (empty when there is none)."""
    path = root / ALLOWED_TIGHTENINGS
    if not path.is_file():
        return []
    return allowances_from_json(json.loads(path.read_text(encoding="utf-8")))


def _raw_incompatibilities(root: Path) -> list[Incompatibility]:
    released = _load(root / SCHEMAS_DIR / RELEASED_DIR)
    current = {path.as_posix(): schema for path, schema in event_schemas().items()}
    return compare_schema_sets(released, current)


def check_compatibility(root: Path) -> list[Incompatibility]:
    """Incompatibilities of the current models with the released schemas under `root`
    that the allow-list does not accept, plus allow-list paths that matched nothing."""
    remaining, unused = apply_allowances(_raw_incompatibilities(root), load_allowances(root))
    return remaining + unused


def release(root: Path) -> list[Path]:
    """Copy the current schemas into released/ (refused while incompatible beyond the
    allow-list) and empty the allow-list, whose tightenings are then released."""
    remaining, _ = apply_allowances(_raw_incompatibilities(root), load_allowances(root))
    if remaining:
        raise SystemExit(
            "refusing to release incompatible schemas:\n" + "\n".join(map(str, remaining))
        )
    target = root / SCHEMAS_DIR / RELEASED_DIR
    written = []
    for path, schema in event_schemas().items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(render_json(schema), encoding="utf-8")
        written.append(destination.relative_to(root))
    allow_list = root / ALLOWED_TIGHTENINGS
    if allow_list.is_file() and load_allowances(root):
        allow_list.write_text(render_json(allowances_to_json([], _ALLOWANCES_ABOUT)), "utf-8")
        written.append(ALLOWED_TIGHTENINGS)
    return written


def draft_tightenings(root: Path) -> str:
    """JSON of allow-list entries for the incompatibilities not yet allowed (reasons TODO)."""
    allowances = load_allowances(root)
    remaining, _ = apply_allowances(_raw_incompatibilities(root), allowances)
    drafted = [*allowances, *draft_allowances(remaining)]
    return render_json(allowances_to_json(drafted, _ALLOWANCES_ABOUT))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m dealerflow.contracts.tools.generate")
    parser.add_argument("--root", type=Path, default=None, help="repository root")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if artifacts drifted")
    mode.add_argument("--release", action="store_true", help="copy schemas to released/")
    mode.add_argument(
        "--draft-tightenings",
        action="store_true",
        help="print the allow-list with entries for unreleased tightenings (reasons TODO)",
    )
    args = parser.parse_args(argv)
    root: Path = args.root or default_root()
    if args.check:
        problems = check(root) + [str(i) for i in check_compatibility(root)]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python -m dealerflow.contracts.tools.generate", file=sys.stderr)
        return 1 if problems else 0
    if args.draft_tightenings:
        print(draft_tightenings(root), end="")
        return 0
    if args.release:
        for path in release(root):
            print(f"released {path}")
        return 0
    for path in write(root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
