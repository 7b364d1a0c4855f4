from datetime import UTC, datetime

import pytest

from dealerflow.sales.domain_finance import (
    Confirmation,
    ConfirmationRefused,
    confirm,
    is_valid_tax_number,
    resident_id_check_character,
    uscc_check_character,
)

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_tax_number_with_its_check_character_is_valid() -> None:
    prefix = "91110108MA01ABCD1"
    check = uscc_check_character(prefix)
    assert check is not None
    assert is_valid_tax_number(prefix + check)


def test_known_published_code_is_valid() -> None:
    # A code as printed on a business licence (Huawei Technologies Co., Ltd.).
    assert is_valid_tax_number("914403001922038216")


def test_private_buyer_resident_id_number_is_valid() -> None:
    assert is_valid_tax_number("11010519491231002X")
    assert not is_valid_tax_number("110105194912310021")
    assert resident_id_check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "tax_number",
    [
        "",
        "91440300192203821",
        "9144030019220382161",
        "914403001922038217",
        "91440300192203821i",
        "9144030019220382O6",
    ],
)
def test_tax_number_of_wrong_length_check_or_alphabet_is_invalid(tax_number: str) -> None:
    assert not is_valid_tax_number(tax_number)


def test_confirm_records_who_and_when_once() -> None:
    assert confirm(False, "fin-1", AT) == Confirmation("fin-1", AT)
    assert confirm(True, "fin-2", AT) is None


def test_confirm_needs_a_user() -> None:
    with pytest.raises(ConfirmationRefused):
        confirm(False, "", AT)
