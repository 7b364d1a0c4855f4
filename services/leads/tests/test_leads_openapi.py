"""The committed OpenAPI document matches the code (docs/openapi/leads.json)."""

from __future__ import annotations

from pathlib import Path

from dealerflow.devinfra.service_testing import assert_openapi_committed
from dealerflow.leads.app import DEFINITION
from dealerflow.runtime.service import openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "leads.json"


def test_committed_openapi_document_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_submission_endpoint_documents_json_and_adf_bodies() -> None:
    post = openapi_document(DEFINITION)["paths"]["/v1/leads"]["post"]
    content = post["requestBody"]["content"]
    assert set(content) == {"application/json", "application/xml", "text/xml"}
    schema = content["application/json"]["schema"]
    assert schema["$id"].endswith("LeadSubmission.json")
    assert "customer" in schema["required"]
    assert {"200", "201", "400", "415", "422"} <= set(post["responses"])
