"""Import rows of the inspector directory (CSV / XLSX sheets): header mapping and per-row checks.

A sheet arrives as a header plus rows of text cells (the adapters turn CSV and XLSX into that).
Offices keep these sheets in Chinese, so every column also has its Chinese heading.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shuangsui.registry.domain.inspectors import (
    InspectorRecord,
    InvalidField,
    RowError,
    clean_cert_no,
    clean_code,
    clean_date,
    clean_department_type,
    clean_name,
    clean_optional_text,
    clean_status,
    clean_tags,
    duplicate_errors,
)

# column → Chinese headings offices use for it
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "unit_code": ("单位编码", "所属单位编码", "机构编码"),
    "region_code": ("行政区划代码", "区划代码"),
    "station_code": ("市场监管所编码", "所编码"),
    "department_type": ("部门类型",),
    "position": ("职务",),
    "cert_no": ("执法证号", "执法证件号"),
    "cert_valid_until": ("执法证有效期至", "证件有效期"),
    "qualifications": ("资格", "执法资格"),
    "specialties": ("专业领域", "专长"),
    "status": ("状态",),
    "justice_db_ref": ("司法行政执法人员库编号",),
}
REQUIRED_COLUMNS = ("name", "unit_code", "region_code", "cert_no", "cert_valid_until")
_ALIASES = {alias: column for column, names in COLUMNS.items() for alias in (column, *names)}


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


def map_header(header: Sequence[str]) -> dict[str, int]:
    """Column name → index. Unknown columns are ignored: offices add remarks columns freely."""
    positions: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for index, heading in enumerate(header):
        column = _ALIASES.get(heading.strip().lstrip("\ufeff").lower()) or _ALIASES.get(
            heading.strip()
        )
        if column is None:
            continue
        if column in positions:
            problems.append((column, "the column appears twice in the header"))
        positions[column] = index
    problems += [(c, "required column is missing") for c in REQUIRED_COLUMNS if c not in positions]
    if problems:
        raise BadHeader(problems)
    return positions


def split_list(cell: str) -> list[str]:
    """A list cell: a JSON array (ARCHITECTURE §5), or codes separated by ; ； 、 or |."""
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value: Any = json.loads(cell)
        except ValueError:
            raise InvalidField("not a valid JSON array") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidField("a JSON array of strings is expected")
        return value
    for separator in ("；", "、", "|"):
        cell = cell.replace(separator, ";")
    return cell.split(";")


_CLEANERS: dict[str, Callable[[str], Any]] = {
    "name": clean_name,
    "unit_code": clean_code,
    "region_code": lambda v: _region(v),
    "station_code": lambda v: clean_code(v, required=False),
    "department_type": clean_department_type,
    "position": lambda v: clean_optional_text(v, 50),
    "cert_no": clean_cert_no,
    "cert_valid_until": clean_date,
    "qualifications": lambda v: clean_tags(split_list(v)),
    "specialties": lambda v: clean_tags(split_list(v)),
    "status": clean_status,
    "justice_db_ref": lambda v: clean_optional_text(v, 64),
}


def _region(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidField("required")
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise InvalidField("a 6-digit GB/T 2260 code is expected")
    return value


def parse_record(
    cells: Mapping[str, str], line: int, known_region: Callable[[str], bool]
) -> tuple[InspectorRecord | None, list[RowError]]:
    """One row's record, or every field error it has (all at once, so one round trip fixes all)."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column, clean in _CLEANERS.items():
        raw = cells.get(column, "")
        try:
            value = clean(raw)
        except InvalidField as exc:
            errors.append(RowError(line, column, str(exc)))
            continue
        if column == "region_code" and not known_region(value):
            errors.append(RowError(line, column, f"{value} is not a GB/T 2260 code in force"))
            continue
        values[column] = value
    if errors:
        return None, errors
    return InspectorRecord(**values), []


def parse_sheet(
    sheet: Sheet, known_region: Callable[[str], bool]
) -> tuple[list[tuple[int, InspectorRecord]], list[RowError]]:
    """Valid rows with their lines, and the errors of the others (including in-batch duplicates
    of a certificate number or justice-database reference: the later row is rejected)."""
    positions = map_header(sheet.header)
    parsed: list[tuple[int, InspectorRecord]] = []
    errors: list[RowError] = []
    for line, row in zip(sheet.lines, sheet.rows, strict=True):
        cells = {c: (row[i] if i < len(row) else "") for c, i in positions.items()}
        record, row_errors = parse_record(cells, line, known_region)
        if record is not None:
            parsed.append((line, record))
        errors += row_errors
    duplicates = duplicate_errors(parsed, "cert_no", "certificate number") + duplicate_errors(
        parsed, "justice_db_ref", "justice-database reference"
    )
    rejected = {e.line for e in duplicates}
    return [(n, r) for n, r in parsed if n not in rejected], sorted(
        errors + duplicates, key=lambda e: (e.line, e.field)
    )
