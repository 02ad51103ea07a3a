from hypothesis import given
from hypothesis import strategies as st

from infrastructure.samples import valid_nhs_number
from shared.identifiers import (
    is_valid_nhs_number,
    is_valid_postcode,
    nhs_check_digit,
    normalise_nhs_number,
    normalise_postcode,
)


def test_known_nhs_numbers() -> None:
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number("943-476-5919")
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("123 456 7890")
    assert not is_valid_nhs_number("94347659")
    assert not is_valid_nhs_number("94347659AB")
    assert not is_valid_nhs_number("")
    assert not is_valid_nhs_number("000 000 0000")  # passes Modulus 11, but a placeholder
    assert not is_valid_nhs_number("1111111111")


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_a_number_with_its_check_digit_is_valid(first_nine: str) -> None:
    check = nhs_check_digit(first_nine)
    if check is None:
        # Check digit 10 means no valid number starts with these nine digits.
        assert not any(is_valid_nhs_number(first_nine + str(d)) for d in range(10))
    elif len(set(first_nine + str(check))) > 1:
        assert is_valid_nhs_number(first_nine + str(check))
        assert is_valid_nhs_number(f"{first_nine[:3]} {first_nine[3:6]} {first_nine[6:]}{check}")


@given(nine_digits, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_error_is_caught(first_nine: str, position: int, shift: int) -> None:
    check = nhs_check_digit(first_nine)
    if check is None:
        return
    number = first_nine + str(check)
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not is_valid_nhs_number(wrong)


@given(st.integers(min_value=0, max_value=10_000))
def test_sample_numbers_are_valid(seed: int) -> None:
    assert is_valid_nhs_number(valid_nhs_number(seed))


def test_normalise_nhs_number() -> None:
    assert normalise_nhs_number(" 943 476-5919 ") == "9434765919"


def test_postcodes() -> None:
    for good in ("BR1 3AA", "br13aa", "SW1A 1AA", "M1 1AE", "EC1A 1BB", "W1A 0AX", "KT2 5EB"):
        assert is_valid_postcode(good), good
    for bad in ("", "BR1", "12345", "QQ1 1AA", "BR1 3AAA", "BR1 3CA"):
        assert not is_valid_postcode(bad), bad
    assert normalise_postcode("br13aa") == "BR1 3AA"
