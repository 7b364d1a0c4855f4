"""The committed OpenAPI document matches the code (docs/openapi/service-center.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dealerflow.devinfra.service_testing import assert_openapi_committed
from dealerflow.service_center.app import DEFINITION

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "service-center.json"


def test_committed_openapi_document_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_console_script_prints_the_openapi_document() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dealerflow.service_center", "openapi"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "/v1/repair-orders/{repair_order_id}/handover" in json.loads(out)["paths"]


def test_a_retried_purchase_order_is_documented() -> None:
    # schemathesis (tests/api) found the 200 of a retry undocumented
    responses = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]["/v1/purchase-orders"][
        "post"
    ]["responses"]
    assert {"200", "201"} <= set(responses)
