"""Import sheets shared by the directories: header mapping and reading rows into records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from shuangsui.contracts.batches import RowError
from shuangsui.registry.domain.sheets import BadHeader, Sheet, map_header, parse_rows

COLUMNS = {"code": ("编码",), "name": ("名称",), "note": ()}
REQUIRED = ("code", "name")


def sheet(*rows: list[str], header: list[str] | None = None) -> Sheet:
    header = header if header is not None else ["code", "name", "note"]
    return Sheet(header=header, rows=list(rows), lines=list(range(2, len(rows) + 2)))


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    note: str


def read(cells: Mapping[str, str], line: int) -> tuple[Entry | None, list[RowError]]:
    if not cells["name"]:
        return None, [RowError(line, "name", "required")]
    return Entry(**cells), []


def test_chinese_headings_a_bom_and_any_case_find_their_column_and_remarks_are_ignored():
    assert map_header(["\ufeff编码", "备注", "NAME"], COLUMNS, REQUIRED) == {"code": 0, "name": 2}


def test_a_repeated_and_a_missing_column_are_both_named():
    with pytest.raises(BadHeader) as bad:
        map_header(["code", "编码"], COLUMNS, REQUIRED)
    assert bad.value.errors == [
        ("code", "the column appears twice in the header"),
        ("name", "required column is missing"),
    ]


def test_a_short_row_reads_its_missing_cells_as_empty():
    valid, errors = parse_rows(sheet(["A1", "甲"]), COLUMNS, REQUIRED, read, key="code", unique=[])
    assert (valid, errors) == ([(2, Entry("A1", "甲", ""))], [])


def test_a_repeated_key_rejects_the_later_row_and_errors_come_in_line_order_with_their_key():
    rows = sheet(["A1", "甲"], ["B2", ""], ["A1", "乙"])
    valid, errors = parse_rows(rows, COLUMNS, REQUIRED, read, key="code", unique=[("code", "code")])
    assert [line for line, _ in valid] == [2]
    assert errors == [
        RowError(3, "name", "required", key="B2"),
        RowError(4, "code", "code repeats line 2", key="A1"),
    ]


def test_an_error_of_a_row_without_its_key_names_no_key():
    _, errors = parse_rows(sheet([" ", ""]), COLUMNS, REQUIRED, read, key="code", unique=[])
    assert errors == [RowError(2, "name", "required", key=None)]
