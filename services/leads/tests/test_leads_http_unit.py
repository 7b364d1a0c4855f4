"""Small pure pieces of the HTTP layer and repository: refusal status codes, cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dealerflow.contracts.inbound import LeadSubmissionError, parse_lead_submission
from dealerflow.leads.api import submission_problem
from dealerflow.leads.repository import LIST_KEY_KINDS, list_key
from dealerflow.runtime.pagination import encode_cursor, parse_cursor


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/json", 400),
        (b"[1]", "application/json", 400),
        (b"{x", "application/json", 400),
        (b"<adf><prospect>", "application/xml", 400),
        (b"<html/>", "text/xml", 400),
        (b'<!DOCTYPE adf [<!ENTITY x "y">]><adf/>', "application/xml", 400),
        (b"a=b", "application/x-www-form-urlencoded", 415),
        (b"{" + b" " * 300_000 + b"}", "application/json", 413),
        (b'{"customer": {"phones": ["1"]}}', "application/json", 422),
        (b'{"customer": {}, "channel": "fax"}', "application/json", 422),
    ],
)
def test_refusals_map_to_http_status(body: bytes, content_type: str, status: int) -> None:
    with pytest.raises(LeadSubmissionError) as caught:
        parse_lead_submission(body, content_type)
    problem = submission_problem(caught.value)
    assert problem.status == status, caught.value.reason
    assert problem.detail == caught.value.reason


def test_cursor_round_trip_and_garbage() -> None:
    class Row:
        priority_rank = 1
        created_at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
        channel = "phone"
        lead_id = uuid.uuid4()

    cursor = encode_cursor(*list_key(Row()))  # type: ignore[arg-type]
    assert parse_cursor(cursor, *LIST_KEY_KINDS) == (1, Row.created_at, 1, Row.lead_id)
    for garbage in ("nonsense", "", "W10", cursor[:-3]):
        with pytest.raises(ValueError, match="invalid cursor"):
            parse_cursor(garbage, *LIST_KEY_KINDS)
