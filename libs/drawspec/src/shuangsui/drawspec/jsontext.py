"""JSON as IDS-1 reads and writes it (DRAW_SPEC §2.1, §2.9–§2.11, §4.2).

Parsing is split in two so that a vector file can embed a defective bundle: `parse_json`
only fails on text that is not JSON at all; anything that is valid JSON but outside the IDS-1
subset (a fraction, an exponent, `NaN`, a huge integer, a repeated key) is kept in the tree as
a `Defect` marker, and `first_defect` finds it (or an unpaired surrogate) when the tree is
validated as a bundle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TypeAlias

MAX_SAFE_INTEGER = 2**53 - 1
_BOM = b"\xef\xbb\xbf"
# More digits than 2^53-1 has can never be in range; skipping int() also avoids CPython's
# 4300-digit conversion limit on hostile input.
_MAX_INT_CHARS = len(str(MAX_SAFE_INTEGER)) + 1


class Defect:
    """A JSON value that is well-formed JSON but not allowed by §2.9 (kept for step 1)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Defect({self.reason!r})"


JsonValue: TypeAlias = "bool | int | str | list[JsonValue] | dict[str, JsonValue] | Defect | None"


class NotJson(ValueError):
    """The bytes are not a JSON text (§2.10); the IDS-1 outcome is `E_SCHEMA`."""


class BomPrefixed(ValueError):
    """A JSON text preceded by a UTF-8 byte order mark: JSON, but rejected by §2.10.

    `tree` is the value after the mark, for callers that read non-bundle files leniently.
    """

    def __init__(self, tree: JsonValue) -> None:
        super().__init__("leading UTF-8 byte order mark")
        self.tree = tree


def parse_json(data: bytes) -> JsonValue:
    """Parse UTF-8 bytes into a tree with `Defect` markers; raise `NotJson` if not JSON.

    A leading BOM raises `BomPrefixed` when the rest is JSON, `NotJson` otherwise.
    """
    bom = data.startswith(_BOM)
    if bom:
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotJson(f"not valid UTF-8 at byte {exc.start + 3 * bom}") from exc
    tree = parse_json_text(text)
    if bom:
        raise BomPrefixed(tree)
    return tree


def parse_json_text(text: str) -> JsonValue:
    """Parse already-decoded JSON text (see `parse_json`)."""
    try:
        value: JsonValue = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_fraction,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise NotJson(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise NotJson("JSON nested too deeply to read") from exc
    return value


def _object(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue] | Defect:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                return Defect(f"object with a repeated key {key!r}")
            seen.add(key)
    return result


def _integer(literal: str) -> int | Defect:
    if len(literal) <= _MAX_INT_CHARS:
        value = int(literal)
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    return Defect(f"integer outside ±(2^53−1): {literal[:40]}")


def _fraction(literal: str) -> Defect:
    return Defect(f"number with a fraction or exponent: {literal[:40]}")


def _constant(literal: str) -> Defect:
    return Defect(f"non-finite number {literal}")


# A decoded str holds a surrogate code point only when it is lone (JSON decoding joins pairs).
# Searched by `re`, in C: the per-character loop was most of a large bundle's verification.
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_unpaired_surrogate(text: str) -> bool:
    """True if the decoded string holds a lone surrogate (only possible via `\\uD8xx` escapes)."""
    return _SURROGATE.search(text) is not None


def first_defect(value: JsonValue) -> tuple[str, str] | None:
    """The path and reason of the first value §2.1/§2.9 forbids, or None."""
    if _surely_clean(value):
        return None
    for path, node in _walk(value, ""):
        if isinstance(node, Defect):
            return path, node.reason
        if isinstance(node, str) and has_unpaired_surrogate(node):
            return path, "string with an unpaired surrogate"
    return None


def _surely_clean(value: JsonValue) -> bool:
    """True only if the tree holds no `Defect` and no lone surrogate, proved in C: `json.dumps`
    refuses a `Defect` (not serializable) and writes every string and key as it is, so one
    search of its text finds any surrogate. Anything else (a refusal, a surrogate, a cycle) is
    left to the walk, which names the first defect's path; the answer never differs from it."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return False
    return _SURROGATE.search(text) is None


def _walk(root: JsonValue, root_path: str) -> Iterator[tuple[str, JsonValue]]:
    # Iterative: a hostile bundle can nest deeper than Python's recursion limit.
    stack: list[tuple[str, JsonValue]] = [(root_path, root)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            keys = list(node)
            for key in keys:
                yield f"{path} (a key)", key
            for key in reversed(keys):
                stack.append((f"{path}.{key}" if path else key, node[key]))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                stack.append((f"{path}[{index}]", node[index]))


def canonical_json(value: JsonValue) -> bytes:
    """RFC 8785 (JCS) bytes for the IDS-1 value subset (§4.2).

    With ASCII keys, strings and safe integers only, Python's sorted compact dump with
    literal non-ASCII is byte-identical to JCS, including lowercase `\\u00xx` escapes.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def dumps(value: object, *, pretty: bool = True) -> str:
    """Human-facing JSON output (results, rejections); non-ASCII written literally."""
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
