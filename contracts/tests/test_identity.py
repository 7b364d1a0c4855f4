"""Customer identity rule and phone normalisation."""

from __future__ import annotations

import uuid

import pytest

from dealerflow.contracts.identity import (
    CUSTOMER_NAMESPACE,
    InvalidPhoneNumber,
    customer_id_for,
    customer_id_for_email,
    house_customer_id,
    normalize_phone,
)


def test_customer_id_is_the_documented_uuid5() -> None:
    expected = uuid.uuid5(CUSTOMER_NAMESPACE, "acme-auto:+8613800138000")
    assert customer_id_for("acme-auto", "+8613800138000") == expected
    assert expected.version == 5
    # Pinned value: changing the rule or namespace would split every customer in two.
    assert str(expected) == "9d7f8ee8-b4ee-51f5-986e-dbf411341ed6"


def test_group_code_is_trimmed_and_case_insensitive() -> None:
    assert customer_id_for(" ACME-Auto ", "+8613800138000") == customer_id_for(
        "acme-auto", "+8613800138000"
    )
    assert customer_id_for("other-group", "+8613800138000") != customer_id_for(
        "acme-auto", "+8613800138000"
    )


def test_customer_id_needs_e164_and_a_group() -> None:
    with pytest.raises(InvalidPhoneNumber, match="normalize_phone"):
        customer_id_for("acme-auto", "13800138000")
    with pytest.raises(ValueError, match="dealer group"):
        customer_id_for("  ", "+8613800138000")


def test_email_and_house_ids() -> None:
    assert customer_id_for_email("acme-auto", " Anna@Example.COM ") == uuid.uuid5(
        CUSTOMER_NAMESPACE, "acme-auto:mailto:anna@example.com"
    )
    assert house_customer_id("sh-pudong-01") == uuid.uuid5(
        CUSTOMER_NAMESPACE, "dealer:sh-pudong-01"
    )
    with pytest.raises(ValueError, match="e-mail"):
        customer_id_for_email("acme-auto", "nobody")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("(010) 6552 9988", "+861065529988"),
        ("021-6888 8888", "+862168888888"),
        ("+1 (650) 253-0000", "+16502530000"),
    ],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_normalize_phone_default_region_is_configurable() -> None:
    assert normalize_phone("(650) 253-0000", default_region="US") == "+16502530000"


@pytest.mark.parametrize("raw", ["", "not a phone", "12345", "+86 138"])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(raw)
