"""Import rows of the inspector directory (CSV / XLSX sheets): its columns and per-row checks.

How a sheet is read into records, column by column, is common to the directories (`sheets.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from shuangsui.contracts.batches import RowError
from shuangsui.registry.domain.inspectors import (
    InspectorRecord,
    InvalidField,
    clean_cert_no,
    clean_code,
    clean_date,
    clean_department_type,
    clean_name,
    clean_optional_text,
    clean_status,
    clean_tags,
)
from shuangsui.registry.domain.sheets import Cleaners, Sheet, clean_cells, parse_rows

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


def _cleaners(known_region: Callable[[str], bool]) -> Cleaners:
    def region_in_force(value: str) -> str:
        value = value.strip()
        if not value:
            raise InvalidField("required")
        if len(value) != 6 or not value.isascii() or not value.isdigit():
            raise InvalidField("a 6-digit GB/T 2260 code is expected")
        if not known_region(value):
            raise InvalidField(f"{value} is not a GB/T 2260 code in force")
        return value

    return {
        "name": clean_name,
        "unit_code": clean_code,
        "region_code": region_in_force,
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


def parse_record(
    cells: Mapping[str, str], line: int, known_region: Callable[[str], bool]
) -> tuple[InspectorRecord | None, list[RowError]]:
    """One row's record, or every field error it has (all at once, so one round trip fixes all)."""
    values, errors = clean_cells(cells, line, _cleaners(known_region))
    if errors:
        return None, errors
    return InspectorRecord(**values), []


def parse_sheet(
    sheet: Sheet, known_region: Callable[[str], bool]
) -> tuple[list[tuple[int, InspectorRecord]], list[RowError]]:
    """Valid rows with their lines, and the errors of the others (including in-batch duplicates
    of a certificate number or justice-database reference: the later row is rejected)."""
    return parse_rows(
        sheet, COLUMNS, REQUIRED_COLUMNS, lambda cells, line: parse_record(cells, line, known_region),
        key="cert_no",
        unique=[("cert_no", "certificate number"), ("justice_db_ref", "justice-database reference")],
    )  # fmt: skip
