"""Small pure pieces: refusal status codes, cursors, the inbound inbox key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord

from dealerflow.contracts.inbound import LeadSubmissionError, parse_lead_submission
from dealerflow.leads.api import submission_problem
from dealerflow.leads.consumers import inbox_key
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
        lead_id = uuid.uuid4()

    cursor = encode_cursor(*list_key(Row()))  # type: ignore[arg-type]
    assert parse_cursor(cursor, *LIST_KEY_KINDS) == (1, Row.created_at, Row.lead_id)
    for garbage in ("nonsense", "", "W10", cursor[:-3]):
        with pytest.raises(ValueError, match="invalid cursor"):
            parse_cursor(garbage, *LIST_KEY_KINDS)


def _raw(offset: int, body: bytes, *headers: tuple[str, bytes]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="dealerflow.inbound.leads",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=body,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(body),
        headers=list(headers),
    )


def test_the_inbound_inbox_key_is_the_content_not_the_position() -> None:
    doc = b'{"customer": {"phones": ["13800138000"]}}'
    dealer = ("dealer-id", b"sh-pudong-01")
    first = inbox_key(_raw(1, doc, dealer))
    assert inbox_key(_raw(9, doc, ("Dealer-ID", b" sh-pudong-01 "))) == first  # resent
    assert inbox_key(_raw(1, doc, ("dealer-id", b"bj-chaoyang-02"))) != first
    assert inbox_key(_raw(1, doc, dealer, ("consultant-id", b"c-li"))) != first
    assert inbox_key(_raw(1, doc + b" ", dealer)) != first
