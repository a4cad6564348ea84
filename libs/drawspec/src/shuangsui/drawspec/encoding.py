"""Encoding primitives (DRAW_SPEC §2): integers, length prefixes, tagged hashes, hex, dates."""

from __future__ import annotations

import calendar
import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Sequence

_PREFIX = b"IDS-1/"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")

# CPython refuses int(str) above 4300 digits by default; ratio digits are unbounded (§4.1),
# so long digit strings are converted piecewise instead of lifting the global limit.
_CHUNK_DIGITS = 2000
# Fields joined per hash update by `StreamHash.add_text_rows` (bounds the memory of a long list).
_ROW_CHUNK = 1 << 16


def utf8(text: str) -> bytes:
    """UTF-8 bytes of a string (§2.1); raises on unpaired surrogates, which step 1 rejects."""
    return text.encode("utf-8")


def dec(n: int) -> str:
    """`dec(n)`: decimal ASCII without sign or leading zeros (§2.3)."""
    if n < 0:
        raise ValueError("dec() is defined for non-negative integers only")
    return str(n)


def u32be(n: int) -> bytes:
    """`u32be(n)`: 4-byte big-endian unsigned encoding (§2.3)."""
    return n.to_bytes(4, "big")


def lp(field: bytes) -> bytes:
    """`LP(x) = u32be(len(x)) || x` (§2.4)."""
    return u32be(len(field)) + field


def lp_texts(fields: Iterable[str]) -> bytes:
    """`LP(utf8(f1)) || LP(utf8(f2)) || …` as one bytes join (the list hashes' loop)."""
    encoded = [field.encode("utf-8") for field in fields]
    parts: list[bytes] = [b""] * (2 * len(encoded))
    parts[0::2] = [len(data).to_bytes(4, "big") for data in encoded]
    parts[1::2] = encoded
    return b"".join(parts)


def tag_prefix(tag: str) -> bytes:
    """`"IDS-1/" || tag || 0x00`, the domain separation shared by §2.5 and §2.6."""
    return _PREFIX + tag.encode("ascii") + b"\x00"


def tagged_hash(tag: str, *fields: bytes) -> bytes:
    """`H(tag, f1..fn)` of §2.5: 32 raw bytes."""
    h = hashlib.sha256(tag_prefix(tag))
    for field in fields:
        h.update(lp(field))
    return h.digest()


class StreamHash:
    """The streaming list hash of §2.6: fields of every entry, entry by entry, in list order."""

    def __init__(self, tag: str) -> None:
        self._h = hashlib.sha256(tag_prefix(tag))

    def add(self, *fields: bytes) -> None:
        """Append the length-prefixed fields of one entry."""
        for field in fields:
            self._h.update(lp(field))

    def add_text(self, *fields: str) -> None:
        """Append string fields, each as `LP(utf8(s))`."""
        for field in fields:
            self._h.update(lp(utf8(field)))

    def add_encoded(self, data: bytes) -> None:
        """Append fields already length-prefixed (`lp_texts`)."""
        self._h.update(data)

    def add_text_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """`add_text(*row)` for every row, joined in chunks instead of hashed field by field."""
        texts: list[str] = []
        for row in rows:
            texts += row
            if len(texts) >= _ROW_CHUNK:
                self._h.update(lp_texts(texts))
                texts = []
        self._h.update(lp_texts(texts))

    def digest(self) -> bytes:
        """32 raw bytes."""
        return self._h.digest()

    def hexdigest(self) -> str:
        """64 lowercase hex digits (§2.7)."""
        return self._h.hexdigest()


def is_hex64(value: str) -> bool:
    """Exactly 64 lowercase hex digits (§2.7); uppercase is not accepted."""
    return _HEX64.fullmatch(value) is not None


def is_even_lower_hex(value: str) -> bool:
    """A non-empty, even-length string of lowercase hex digits (the drand signature of §5.1)."""
    return _LOWER_HEX.fullmatch(value) is not None


def is_date(value: str) -> bool:
    """`YYYY-MM-DD`, a real proleptic Gregorian date with year 0001–9999 (§2.8)."""
    m = _DATE.fullmatch(value)
    return m is not None and _valid_ymd(int(m[1]), int(m[2]), int(m[3]))


def timestamp_seconds(value: str) -> int | None:
    """Unix seconds of an exact `YYYY-MM-DDTHH:MM:SSZ` timestamp (§2.8), or None if invalid.

    Leap seconds (`:60`) and `24:00:00` are invalid by §2.8, so no clock arithmetic is needed.
    """
    m = _TIMESTAMP.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    if not _valid_ymd(year, month, day) or hour > 23 or minute > 59 or second > 59:
        return None
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def _valid_ymd(year: int, month: int, day: int) -> bool:
    if year < 1:
        return False
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return True


def parse_digits(digits: str) -> int:
    """Integer value of an ASCII digit string of any length (ratio terms of §4.1)."""
    if len(digits) <= _CHUNK_DIGITS:
        return int(digits)
    half = len(digits) // 2
    high, low = digits[:-half], digits[-half:]
    value: int = parse_digits(high) * 10**half + parse_digits(low)
    return value


def digits_le(a: str, b: str) -> bool:
    """`a <= b` for canonical digit strings (no leading zeros) without converting them."""
    return (len(a), a) <= (len(b), b)
