"""USCC validation against GB 32100-2015 as restated in DOMAIN R44.

Expected check characters are computed here from the standard, not by stdnum.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.uscc import (
    InvalidUscc,
    Uscc,
    check_character,
    is_valid_uscc,
    validate_uscc,
)

# GB 32100: digits and capital letters without I, O, Z, S, V; a character's value is its
# position in this sequence.
GB32100_CHARS = "0123456789" + "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IOZSV")
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # w_i = 3^(i-1) mod 31


def gb32100_check_character(body17: str) -> str:
    total = sum(GB32100_CHARS.index(c) * w for c, w in zip(body17, WEIGHTS, strict=True))
    return GB32100_CHARS[(31 - total % 31) % 31]


def make_uscc(body17: str) -> str:
    return body17 + gb32100_check_character(body17)


class Subject(BaseModel):
    uscc: Uscc


def test_reference_alphabet_and_weights_match_r44() -> None:
    assert GB32100_CHARS == "0123456789ABCDEFGHJKLMNPQRTUWXY"
    assert WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def test_domain_example_is_valid() -> None:
    assert gb32100_check_character("91350100M000100Y4") == "3"
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "body",
    [
        "91330106MA2AXXXX0",  # enterprise (9 = market regulation, 1 = enterprise)
        "92330106MA2ABCDE1",  # individual business 个体工商户
        "93330106MA2A00001",  # farmers' cooperative 农民专业合作社
        "12330000470000000",  # public institution 事业单位
        "91100000100000001",  # central registration, division 100000
        "N2330106MF0000001",  # rural collective (N = agriculture): letters at 1-2 allowed
    ],
)
def test_codes_with_a_correct_check_character_are_accepted(body: str) -> None:
    code = make_uscc(body)
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)


def test_input_is_stripped_and_upper_cased() -> None:
    code = make_uscc("91330106MA2AXXXX0")
    assert validate_uscc(f"  {code.lower()}\n") == code


@pytest.mark.parametrize("value", ["", "91350100M000100Y4", "91350100M000100Y433", "9" * 30])
def test_wrong_length_is_reported_as_length(value: str) -> None:
    with pytest.raises(InvalidUscc) as info:
        validate_uscc(value)
    assert info.value.reason == "length"
    assert "18 characters" in str(info.value)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-", " ", "é"])
def test_characters_outside_the_gb32100_set_are_reported_as_charset(bad: str) -> None:
    value = "91350100M" + bad + "00100Y43"
    with pytest.raises(InvalidUscc) as info:
        validate_uscc(value)
    assert info.value.reason == "charset"


def test_a_letter_in_the_division_part_is_reported_as_charset() -> None:
    value = make_uscc("9133A106MA2AXXXX0")
    with pytest.raises(InvalidUscc) as info:
        validate_uscc(value)
    assert info.value.reason == "charset"
    assert "positions 3-8" in info.value.detail


def test_a_wrong_check_character_is_reported_with_the_expected_one() -> None:
    wrong = "91350100M000100Y4" + "4"
    with pytest.raises(InvalidUscc) as info:
        validate_uscc(wrong)
    assert info.value.reason == "check_character"
    assert "'3'" in info.value.detail
    assert isinstance(info.value, ValueError)


BODY_CHARS = st.sampled_from(GB32100_CHARS)
DIGITS = st.sampled_from("0123456789")
BODIES = st.tuples(
    st.text(BODY_CHARS, min_size=2, max_size=2),
    st.text(DIGITS, min_size=6, max_size=6),
    st.text(BODY_CHARS, min_size=9, max_size=9),
).map("".join)


@given(body=BODIES)
def test_any_body_with_its_computed_check_character_is_valid(body: str) -> None:
    assert validate_uscc(make_uscc(body)) == make_uscc(body)


@given(body=st.text(BODY_CHARS, min_size=17, max_size=17))
def test_check_character_is_the_one_stdnum_computes(body: str) -> None:
    assert check_character(body) == stdnum_uscc.calc_check_digit(body)


@given(body=BODIES, position=st.integers(0, 17), replacement=DIGITS)
def test_any_single_character_change_is_detected(
    body: str, position: int, replacement: str
) -> None:
    code = make_uscc(body)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed == code:
        return
    with pytest.raises(InvalidUscc) as info:
        validate_uscc(changed)
    assert info.value.reason == "check_character"


def test_pydantic_field_normalises_and_types_its_errors() -> None:
    code = make_uscc("91330106MA2AXXXX0")
    assert Subject(uscc=f" {code.lower()} ").uscc == code
    with pytest.raises(ValidationError) as info:
        Subject(uscc=code[:-1] + ("0" if code[-1] != "0" else "1"))
    error = info.value.errors()[0]
    assert error["type"] == "uscc_check_character"
    assert error["loc"] == ("uscc",)


def test_pydantic_field_rejects_non_strings() -> None:
    with pytest.raises(ValidationError):
        Subject(uscc=913501000000000000)


def test_json_schema_describes_the_canonical_form() -> None:
    schema = Subject.model_json_schema()["properties"]["uscc"]
    assert schema["minLength"] == schema["maxLength"] == 18
    assert "统一社会信用代码" in schema["description"]
    assert re.fullmatch(schema["pattern"], make_uscc("N2330106MF0000001"))
    assert not re.fullmatch(schema["pattern"], "91350100M000100YI3")
