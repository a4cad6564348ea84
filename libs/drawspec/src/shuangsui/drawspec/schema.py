"""Typed readers for step 1 of §11: each returns the value or raises `E_SCHEMA` naming the path.

Booleans are Python ints, so every integer check tests `type(...) is int` explicitly (§2.9:
`true` where an integer is required is `E_SCHEMA`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from .encoding import is_date, is_hex64, timestamp_seconds
from .errors import schema_error
from .jsontext import MAX_SAFE_INTEGER, Defect, JsonValue, has_unpaired_surrogate

T = TypeVar("T")


def describe(value: JsonValue) -> str:
    """A short name of the JSON type found, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Defect):
        return value.reason
    return "an object"


def obj(
    value: JsonValue, path: str, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, JsonValue]:
    """An object with all `required` keys, possibly some `optional` ones, and nothing else."""
    if not isinstance(value, dict):
        raise schema_error(path, f"expected an object, found {describe(value)}")
    for key in value:
        if key not in required and key not in optional:
            raise schema_error(path, f"unexpected key {key!r}")
    for key in required:
        if key not in value:
            raise schema_error(path, f"missing key {key!r}")
    return value


def array(value: JsonValue, path: str) -> list[JsonValue]:
    """A JSON array."""
    if not isinstance(value, list):
        raise schema_error(path, f"expected an array, found {describe(value)}")
    return value


def items(value: JsonValue, path: str, read: Callable[[JsonValue, str], T]) -> tuple[T, ...]:
    """An array whose every element is read with `read(element, path[i])`."""
    return tuple(read(element, f"{path}[{i}]") for i, element in enumerate(array(value, path)))


def string(value: JsonValue, path: str, *, non_empty: bool = False) -> str:
    """A string without unpaired surrogates (§2.1); optionally non-empty."""
    if not isinstance(value, str):
        raise schema_error(path, f"expected a string, found {describe(value)}")
    if has_unpaired_surrogate(value):
        raise schema_error(path, "string with an unpaired surrogate")
    if non_empty and not value:
        raise schema_error(path, "must be a non-empty string")
    return value


def tag(value: JsonValue, path: str) -> str:
    """A non-empty expertise tag without `,` (§3.3, §4.1)."""
    text = string(value, path, non_empty=True)
    if "," in text:
        raise schema_error(path, "a tag must not contain ','")
    return text


def integer(value: JsonValue, path: str, low: int, high: int = MAX_SAFE_INTEGER) -> int:
    """A JSON integer (not a boolean) in `low..high`."""
    if type(value) is not int:
        raise schema_error(path, f"expected an integer, found {describe(value)}")
    if not low <= value <= high:
        raise schema_error(path, f"integer {value} outside {low}..{high}")
    return value


def hex64(value: JsonValue, path: str) -> str:
    """64 lowercase hex digits (§2.7)."""
    text = string(value, path)
    if not is_hex64(text):
        raise schema_error(path, "expected 64 lowercase hex digits")
    return text


def date(value: JsonValue, path: str) -> str:
    """A `YYYY-MM-DD` date (§2.8)."""
    text = string(value, path)
    if not is_date(text):
        raise schema_error(path, f"invalid date {text!r} (YYYY-MM-DD)")
    return text


def timestamp(value: JsonValue, path: str) -> str:
    """A `YYYY-MM-DDTHH:MM:SSZ` timestamp (§2.8)."""
    text = string(value, path)
    if timestamp_seconds(text) is None:
        raise schema_error(path, f"invalid timestamp {text!r} (YYYY-MM-DDTHH:MM:SSZ)")
    return text
