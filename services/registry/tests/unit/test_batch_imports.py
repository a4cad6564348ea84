"""Reading an uploaded sheet before any row is planned: what refuses the whole file."""

from __future__ import annotations

import pytest

from shuangsui.kernel import problems as p
from shuangsui.registry.adapters.sheets import CSV, XLSX
from shuangsui.registry.domain.orgs import parse_sheet
from shuangsui.registry.service.batch_imports import MAX_ROWS, read_rows

HEADER = "code,name,level,region_code,parent_code\n"
STATION = "330106-01,西湖区市场监督管理局第一市场监管所,station,330106,330106-AMR\n"


def refusal(media_type: str, body: bytes) -> p.Problem:
    with pytest.raises(p.Problem) as refused:
        read_rows(media_type, body, parse_sheet)
    return refused.value


def test_a_valid_row_and_a_bad_one_are_both_read_and_counted():
    rows = read_rows(CSV, (HEADER + STATION + "330106-02,,station,330106,\n").encode(), parse_sheet)
    assert (rows.received, [line for line, _ in rows.valid]) == (2, [2])
    assert {e.field for e in rows.invalid} == {"name"}


def test_a_header_without_data_rows_is_422_naming_the_body():
    problem = refusal(CSV, HEADER.encode())
    assert (problem.kind, [e.field for e in problem.errors]) == (p.VALIDATION, ["body"])


def test_a_header_missing_a_required_column_is_422_naming_it():
    problem = refusal(CSV, ("code,name,level\n" + STATION).encode())
    assert (problem.kind, [e.field for e in problem.errors]) == (p.VALIDATION, ["region_code"])


def test_a_file_that_is_not_of_its_declared_type_is_415():
    assert refusal(XLSX, (HEADER + STATION).encode()).kind == p.UNSUPPORTED_MEDIA_TYPE


def test_more_rows_than_an_import_takes_is_413():
    body = HEADER + STATION * (MAX_ROWS + 1)
    assert refusal(CSV, body.encode()).kind == p.PAYLOAD_TOO_LARGE
