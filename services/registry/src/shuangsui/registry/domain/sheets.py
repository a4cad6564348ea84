"""Import sheets of the directories (orgs, inspectors): a header and rows of text cells, read into
records column by column.

The adapters turn CSV and XLSX into a `Sheet`. Offices keep these sheets in Chinese, so a column
may also go by its Chinese headings, and they add remarks columns freely, so unknown ones are
ignored. Every error of a row is reported at once, so that one round trip fixes them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from shuangsui.contracts.batches import RowError
from shuangsui.registry.domain.inspectors import InvalidField, duplicate_errors

R = TypeVar("R")

Cleaners = Mapping[str, Callable[[str], Any]]
ReadRecord = Callable[[Mapping[str, str], int], tuple[R | None, list[RowError]]]


@dataclass(frozen=True)
class Sheet:
    """A table of text cells; `lines[i]` is the file line (CSV) or sheet row (XLSX) of `rows[i]`."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    lines: Sequence[int]


class BadHeader(ValueError):
    """The header lacks required columns or repeats one; `errors` name each column."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors


def map_header(
    header: Sequence[str], columns: Mapping[str, Sequence[str]], required: Sequence[str]
) -> dict[str, int]:
    """Column name → index; `columns` maps each column to the Chinese headings used for it."""
    aliases = {alias: column for column, names in columns.items() for alias in (column, *names)}
    positions: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for index, heading in enumerate(header):
        text = heading.strip().lstrip("\ufeff")
        column = aliases.get(text.lower()) or aliases.get(text)
        if column is None:
            continue
        if column in positions:
            problems.append((column, "the column appears twice in the header"))
        positions[column] = index
    problems += [(c, "required column is missing") for c in required if c not in positions]
    if problems:
        raise BadHeader(problems)
    return positions


def clean_cells(
    cells: Mapping[str, str], line: int, cleaners: Cleaners
) -> tuple[dict[str, Any], list[RowError]]:
    """Each column's clean value (a missing cell reads as empty), and one error per bad cell."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column, clean in cleaners.items():
        try:
            values[column] = clean(cells.get(column, ""))
        except InvalidField as exc:
            errors.append(RowError(line, column, str(exc)))
    return values, errors


def parse_rows(
    sheet: Sheet,
    columns: Mapping[str, Sequence[str]],
    required: Sequence[str],
    read: ReadRecord[R],
    *,
    key: str,
    unique: Sequence[tuple[str, str]],
) -> tuple[list[tuple[int, R]], list[RowError]]:
    """Valid rows with their lines, and the errors of the others, in line order, each naming
    its row's `key` column as the file has it. A row that repeats an earlier row's key (each of
    `unique` is an attribute and its label) is rejected: which should win would be arbitrary."""
    positions = map_header(sheet.header, columns, required)
    parsed: list[tuple[int, R]] = []
    errors: list[RowError] = []
    keys: dict[int, str | None] = {}
    for line, row in zip(sheet.lines, sheet.rows, strict=True):
        cells = {c: (row[i] if i < len(row) else "") for c, i in positions.items()}
        keys[line] = cells.get(key, "").strip() or None
        record, row_errors = read(cells, line)
        if record is not None:
            parsed.append((line, record))
        errors += row_errors
    repeated = [e for name, label in unique for e in duplicate_errors(parsed, name, label)]
    rejected = {e.line for e in repeated}
    valid = [(n, r) for n, r in parsed if n not in rejected]
    keyed = [replace(e, key=keys[e.line]) for e in errors + repeated]
    return valid, sorted(keyed, key=lambda e: (e.line, e.field))
