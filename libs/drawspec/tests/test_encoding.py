"""§2 encoding primitives, checked against the bytes and digests printed in §12."""

from __future__ import annotations

import hashlib

import pytest

from shuangsui.drawspec import encoding
from shuangsui.drawspec.encoding import StreamHash, dec, lp, tagged_hash, u32be


def test_dec_has_no_sign_or_leading_zeros() -> None:
    assert [dec(0), dec(7), dec(1000)] == ["0", "7", "1000"]
    with pytest.raises(ValueError):
        dec(-1)


def test_u32be_is_four_big_endian_bytes() -> None:
    assert u32be(0) == b"\x00\x00\x00\x00"
    assert u32be(258) == b"\x00\x00\x01\x02"
    assert u32be(2**32 - 1) == b"\xff\xff\xff\xff"


def test_length_prefix_counts_utf8_bytes_not_characters() -> None:
    assert lp(b"A-01") == bytes.fromhex("00000004412d3031")
    assert lp("公证处".encode()) == b"\x00\x00\x00\x09" + "公证处".encode()


def test_manifest_entry_bytes_match_the_worked_example() -> None:
    # §12: the first manifest entry A-01 / A / SCJGS-01 / 1.
    h = StreamHash("manifest")
    h.add_text("A-01", "A", "SCJGS-01", "1")
    expected_body = bytes.fromhex("00000004412d303100000001410000000853434a47532d30310000000131")
    assert h.hexdigest() == hashlib.sha256(b"IDS-1/manifest\x00" + expected_body).hexdigest()


def test_empty_lists_hash_to_the_bare_prefix() -> None:
    assert StreamHash("inspectors").hexdigest() == (
        "80c5a07f50733b1eb1f6374cf9589236be45a0ec090e711075083428dcfca9a0"
    )
    assert StreamHash("conflicts").hexdigest() == (
        "27200baf13d3c255752610cd587dfab76c8f0b7ac1b03fba6b3a0e7049269781"
    )


def test_ticket_of_a01_matches_the_worked_example() -> None:
    seed = bytes.fromhex("0a8f91c6f9c49908c43b3e58f26024d1e5047045e2665f5f652aff5d50275675")
    digest = tagged_hash("ticket", seed, b"A-01", u32be(0))
    assert digest.hex() == "e72d911a1f6e17a8d1c1065cbc924313ca2f51b96e8f483cdb8378a77fb1b0b1"


def test_tagged_hash_separates_fields_by_length() -> None:
    assert tagged_hash("t", b"ab", b"c") != tagged_hash("t", b"a", b"bc")
    assert tagged_hash("t", b"x") != tagged_hash("u", b"x")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0" * 64, True),
        ("0123456789abcdef" * 4, True),
        ("0123456789ABCDEF" * 4, False),
        ("0" * 63, False),
        ("0" * 65, False),
        ("g" + "0" * 63, False),
        ("０" + "0" * 63, False),
    ],
)
def test_hex64_is_exactly_64_lowercase_digits(value: str, ok: bool) -> None:
    assert encoding.is_hex64(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2025-04-15", True),
        ("2024-02-29", True),
        ("2000-02-29", True),
        ("1900-02-29", False),
        ("2025-02-29", False),
        ("0000-01-01", False),
        ("0001-01-01", True),
        ("9999-12-31", True),
        ("2025-13-01", False),
        ("2025-04-31", False),
        ("2025-4-15", False),
        ("20250415", False),
        ("2025-04-15 ", False),
        ("２025-04-15", False),
        ("2025-04-15T00:00:00Z", False),
    ],
)
def test_dates_are_real_gregorian_dates(value: str, ok: bool) -> None:
    assert encoding.is_date(value) is ok


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2023-09-15T11:00:03Z", 1694775603),
        ("2023-09-15T10:30:00Z", 1694773800),
        ("2024-02-29T23:59:59Z", 1709251199),
        ("2025-03-03T24:00:00Z", None),
        ("2016-12-31T23:59:60Z", None),
        ("2025-03-03T01:60:00Z", None),
        ("2025-03-03t01:30:00Z", None),
        ("2025-03-03T01:30:00z", None),
        ("2025-03-03T01:30:00.000Z", None),
        ("2025-03-03T01:30:00+00:00", None),
        ("2025-03-03 01:30:00Z", None),
        ("2025-03-03T01:30Z", None),
        ("0000-03-03T01:30:00Z", None),
        ("2025-02-29T01:30:00Z", None),
    ],
)
def test_timestamps_are_exact_utc_seconds(value: str, seconds: int | None) -> None:
    assert encoding.timestamp_seconds(value) == seconds


def test_long_digit_strings_convert_exactly_beyond_cpython_limit() -> None:
    digits = "9" * 9000
    assert encoding.parse_digits(digits) == 10**9000 - 1
    assert encoding.parse_digits("1" + "0" * 5000) == 10**5000


def test_digit_comparison_orders_by_value() -> None:
    assert encoding.digits_le("9", "10")
    assert encoding.digits_le("10", "10")
    assert not encoding.digits_le("11", "10")
    assert not encoding.digits_le("100", "99")
