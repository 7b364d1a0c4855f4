"""docs/dealer-configuration.md lists every dealer setting as the model has it."""

from __future__ import annotations

from pathlib import Path

from dealerflow.policy.reference import reference_rows, with_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "dealer-configuration.md"


def test_the_settings_table_is_the_generated_one() -> None:
    document = DOC.read_text("utf-8")
    assert with_reference(document) == document, (
        "docs/dealer-configuration.md is stale: run "
        "`uv run python -m dealerflow.policy.reference --write docs/dealer-configuration.md`"
    )


def test_every_setting_says_which_service_uses_it() -> None:
    unowned = [path for path, _, _, used_by, _ in reference_rows() if not used_by]
    assert not unowned
