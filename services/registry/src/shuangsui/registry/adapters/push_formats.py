"""Reading pushed batches: NDJSON (one JSON object per line) and CSV (same columns).

Both stream from a file, row by row, so a million-row push never sits in memory. A row that
cannot be read becomes a per-row error; a file that is not the declared format at all raises
`NotThatFormat` with the reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

import orjson

from shuangsui.contracts.batches import RowError

# CSV cells that hold lists (or objects) hold them as JSON (ARCHITECTURE.md §5).
JSON_CELLS = {"licences", "online_shops", "extra"}
NDJSON = "application/x-ndjson"
CSV = "text/csv"

Row = tuple[int, dict[str, Any] | RowError]


class NotThatFormat(ValueError):
    pass


def read_rows(media_type: str, body: IO[bytes]) -> Iterator[Row]:
    if media_type == NDJSON:
        return ndjson_rows(body)
    if media_type == CSV:
        return csv_rows(body)
    raise NotThatFormat(f"cannot read {media_type}; send {NDJSON} or {CSV}")


def ndjson_rows(body: IO[bytes]) -> Iterator[Row]:
    for line_number, raw in enumerate(body, start=1):
        if not raw.strip():
            continue
        try:
            value = _json_line(raw)
        except UnicodeDecodeError:
            yield line_number, RowError(line_number, "line", "not UTF-8 text")
            continue
        except json.JSONDecodeError as exc:
            yield line_number, RowError(line_number, "line", f"not JSON: {exc.msg}")
            continue
        if not isinstance(value, dict):
            yield line_number, RowError(line_number, "line", "each line must be one JSON object")
            continue
        yield line_number, value


def _json_line(raw: bytes) -> Any:
    """What `json.loads` makes of the line; orjson reads it, three times as fast, whenever the
    two are sure to agree. Where they may not, the standard library decides (and words the
    reason): orjson refuses NaN, 1e400 and lone surrogates, and reads an integer beyond 64 bits
    as a float where the standard library keeps it exact — so a line in which orjson found any
    float is read again by the standard library (pushed subjects carry numbers as text, so this
    is rare and costs only the slower reader)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))
    if _holds_float(value):
        return json.loads(raw.decode("utf-8"))
    return value


def _holds_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            type(v) is float or (type(v) in _NESTED and _holds_float(v)) for v in value.values()
        )
    if isinstance(value, list):
        return any(type(v) is float or (type(v) in _NESTED and _holds_float(v)) for v in value)
    return type(value) is float


_NESTED = (dict, list)


def csv_rows(body: IO[bytes]) -> Iterator[Row]:
    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text, strict=True)
        header = reader.fieldnames
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NotThatFormat(f"not CSV text: {exc}") from None
    if not header or "uscc" not in header:
        raise NotThatFormat("the CSV has no header row with a `uscc` column")
    try:
        for record in reader:
            line_number = reader.line_num
            if None in record:
                yield line_number, RowError(line_number, "line", "more cells than header columns")
                continue
            row, error = _cells(record, line_number)
            yield line_number, error or row
    except UnicodeDecodeError:
        raise NotThatFormat("not UTF-8 text") from None
    except csv.Error as exc:
        raise NotThatFormat(f"not CSV text: {exc}") from None
    finally:
        text.detach()


def _cells(record: dict[str, str], line: int) -> tuple[dict[str, Any], RowError | None]:
    row: dict[str, Any] = {}
    for name, cell in record.items():
        if cell is None or cell == "":
            continue
        if name in JSON_CELLS:
            try:
                row[name] = json.loads(cell)
            except json.JSONDecodeError:
                return row, RowError(line, name, "a list cell must hold a JSON array")
        else:
            row[name] = cell
    return row, None


def looks_like_utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True
