"""The committed OpenAPI document matches the code (docs/openapi/sales.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dealerflow.devinfra.service_testing import assert_openapi_committed
from dealerflow.sales.app import DEFINITION

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "sales.json"


def test_committed_openapi_document_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_console_script_prints_the_openapi_document() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dealerflow.sales", "openapi"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "/v1/contracts/{contract_id}/deliver" in json.loads(out)["paths"]
