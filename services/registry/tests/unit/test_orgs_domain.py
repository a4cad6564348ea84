"""Org directory rules: field checks, sheet rows, and planning a batch against the hierarchy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import count
from uuid import UUID

import pytest

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.registry.domain.orgs import (
    Org,
    OrgChange,
    OrgLevel,
    OrgRecord,
    OrgStatus,
    parse_sheet,
    plan_orgs,
)
from shuangsui.registry.domain.sheets import BadHeader, Sheet

ZHEJIANG = "33"
_ids = count(1)


def new_id() -> UUID:
    return UUID(int=next(_ids))


def province() -> OrgRecord:
    return OrgRecord(
        "330000-AMR", "浙江省市场监督管理局", OrgLevel.provincial, "330000", is_hq=True
    )


def city() -> OrgRecord:
    return OrgRecord(
        "330100-AMR", "杭州市市场监督管理局", OrgLevel.city, "330100", "330000-AMR", is_hq=True
    )


def county(code: str = "330106-AMR", region: str = "330106") -> OrgRecord:
    return OrgRecord(code, "杭州市西湖区市场监督管理局", OrgLevel.county, region, "330100-AMR",
                     is_hq=True)  # fmt: skip


def station(number: int = 1, parent: str = "330106-AMR", region: str = "330106") -> OrgRecord:
    return OrgRecord(f"330106-{number:02d}", f"西湖区市场监督管理局第{number}市场监管所",
                     OrgLevel.station, region, parent)  # fmt: skip


def stored(*records: OrgRecord) -> dict[str, Org]:
    return {r.code: Org(new_id(), r) for r in records}


def plan(
    rows: Sequence[OrgRecord], store: dict[str, Org] | None = None, prefix: str = ZHEJIANG
) -> tuple[list[OrgChange], list[RowError]]:
    lines = list(enumerate(rows, start=2))
    return plan_orgs(lines, store or {}, prefix, new_id)


def fields(errors: list[RowError]) -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in errors]


# --- sheet rows ---------------------------------------------------------------------------------


def sheet(*rows: list[str], header: Sequence[str] | None = None) -> Sheet:
    header = header or ["code", "name", "level", "region_code", "parent_code", "is_hq"]
    return Sheet(header=header, rows=list(rows), lines=list(range(2, len(rows) + 2)))


def test_a_row_with_chinese_headings_and_labels_becomes_a_record() -> None:
    rows, errors = parse_sheet(
        sheet(
            ["330106-01", "西湖区第一市场监管所", "所", "330106", "330106-AMR", "否"],
            header=["机构编码", "机构名称", "层级", "行政区划代码", "上级机构编码", "局机关"],
        )
    )
    assert errors == []
    expected = OrgRecord(
        "330106-01", "西湖区第一市场监管所", OrgLevel.station, "330106", "330106-AMR"
    )
    assert rows == [(2, expected)]


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        (["330106 01", "所", "station", "330106", "330106-AMR", ""], "code"),
        (["x" * 33, "所", "station", "330106", "330106-AMR", ""], "code"),
        (["330106-01", "所", "bureau", "330106", "330106-AMR", ""], "level"),
        (["330106-01", "所", "station", "339999", "330106-AMR", ""], "region_code"),
        (["330106-01", "所", "station", "33010", "330106-AMR", ""], "region_code"),
        (["330106-01", "所", "station", "330106", "330106/AMR", ""], "parent_code"),
        (["330106-01", "所", "station", "330106", "330106-AMR", "maybe"], "is_hq"),
        (["330106-01", "", "station", "330106", "330106-AMR", ""], "name"),
    ],
)
def test_a_bad_cell_is_reported_naming_its_column(cells: list[str], field: str) -> None:
    rows, errors = parse_sheet(sheet(cells))
    assert rows == []
    assert fields(errors) == [(2, field)]


def test_a_code_repeated_in_one_file_rejects_the_later_row() -> None:
    row = ["330106-01", "所", "station", "330106", "330106-AMR", ""]
    rows, errors = parse_sheet(sheet(row, row))
    assert [line for line, _ in rows] == [2]
    assert errors[0].reason == "unit code repeats line 2"


def test_a_header_without_the_required_columns_names_them() -> None:
    with pytest.raises(BadHeader) as bad:
        parse_sheet(sheet(["x"], header=["code", "remarks"]))
    assert {f for f, _ in bad.value.errors} == {"name", "level", "region_code"}


# --- planning -----------------------------------------------------------------------------------


def test_a_whole_hierarchy_in_one_file_is_created_with_parent_ids() -> None:
    changes, errors = plan([province(), city(), county(), station(1), station(2)])
    assert errors == []
    assert [c.kind for c in changes] == [ChangeKind.created] * 5
    by_code = {c.org.record.code: c for c in changes}
    assert by_code["330106-01"].parent_org_id == by_code["330106-AMR"].org.org_id
    assert by_code["330000-AMR"].parent_org_id is None


def test_a_parent_later_in_the_same_file_is_found() -> None:
    changes, errors = plan([station(1), county()], stored(province(), city()))
    assert errors == []
    assert changes[0].parent_org_id == changes[1].org.org_id


def test_the_same_state_again_is_unchanged_and_a_new_name_is_a_new_version() -> None:
    store = stored(province(), city(), county())
    renamed = replace(county(), name="杭州市西湖区市场监管局")
    changes, errors = plan([city(), renamed], store)
    assert errors == []
    assert [(c.kind, c.org.version) for c in changes] == [
        (ChangeKind.unchanged, 1),
        (ChangeKind.updated, 2),
    ]
    assert changes[1].org.org_id == store["330106-AMR"].org_id


def test_an_unknown_parent_is_refused() -> None:
    changes, errors = plan([station(1)])
    assert changes == []
    assert fields(errors) == [(2, "parent_code")]
    assert "neither stored nor in this file" in errors[0].reason


def test_an_org_cannot_be_its_own_parent() -> None:
    _, errors = plan([replace(county(), parent_code="330106-AMR")], stored(city()))
    assert fields(errors) == [(2, "parent_code")]
    assert "its own ancestor" in errors[0].reason


def test_two_rows_naming_each_other_as_parent_are_a_cycle() -> None:
    first = replace(county(), parent_code="330102-AMR")
    second = replace(county("330102-AMR", "330102"), parent_code="330106-AMR")
    changes, errors = plan([first, second])
    assert changes == []
    assert {e.reason for e in errors} == {
        "330106-AMR would become its own ancestor", "330102-AMR would become its own ancestor",
    }  # fmt: skip


def test_reparenting_a_stored_ancestor_under_its_descendant_is_a_cycle() -> None:
    store = stored(province(), city(), county())
    _, errors = plan([replace(city(), parent_code="330106-AMR")], store)
    assert "its own ancestor" in errors[0].reason


def test_a_parent_must_be_of_a_higher_level() -> None:
    other_county = replace(county("330102-AMR", "330102"), parent_code="330106-AMR")
    _, errors = plan([other_county], stored(province(), city(), county()))
    assert fields(errors) == [(2, "parent_code")]
    assert "must be of a higher level" in errors[0].reason


def test_a_stations_parent_must_be_a_county_bureau() -> None:
    _, errors = plan([station(1, parent="330100-AMR")], stored(province(), city()))
    assert "a station's parent must be a county bureau" in errors[0].reason


def test_a_parents_region_must_contain_the_childs() -> None:
    ningbo = OrgRecord("330200-AMR", "宁波市市场监督管理局", OrgLevel.city, "330200", "330000-AMR")
    moved = replace(county("330203-AMR", "330203"), parent_code="330100-AMR")
    _, errors = plan([ningbo, moved], stored(province(), city()))
    assert fields(errors) == [(3, "region_code")]
    assert "is not within the region 330100" in errors[0].reason


def test_a_station_is_never_a_head_office() -> None:
    _, errors = plan([replace(station(1), is_hq=True)], stored(province(), city(), county()))
    assert fields(errors) == [(2, "is_hq")]


def test_a_station_needs_a_parent() -> None:
    _, errors = plan([replace(station(1), parent_code=None)])
    assert fields(errors) == [(2, "parent_code")]


def test_the_region_must_suit_the_level() -> None:
    _, errors = plan([replace(city(), region_code="330106", parent_code=None)])
    assert fields(errors) == [(2, "region_code")]
    assert "a city org needs a city code" in errors[0].reason


def test_a_region_outside_the_callers_province_is_refused() -> None:
    guangzhou = OrgRecord("440100-AMR", "广州市市场监督管理局", OrgLevel.city, "440100")
    _, errors = plan([guangzhou])
    assert fields(errors) == [(2, "region_code")]


def test_a_stored_org_of_another_region_is_not_overwritten() -> None:
    store = stored(province(), city(), county())
    _, errors = plan([replace(county(), name="改名")], store, prefix="3302")
    assert fields(errors) == [(2, "code")]


def test_a_new_org_needs_a_region_code_in_force() -> None:
    # 330103 (下城区) was abolished in 2021 and merged into 拱墅区.
    _, errors = plan([county("330103-AMR", "330103")], stored(province(), city()))
    assert fields(errors) == [(2, "region_code")]
    assert "abolished" in errors[0].reason


def test_a_stored_org_keeps_an_abolished_region_code_when_renamed() -> None:
    old = county("330103-AMR", "330103")
    changes, errors = plan(
        [replace(old, name="原下城区市场监督管理局")], stored(province(), city(), old)
    )
    assert errors == []
    assert changes[0].kind is ChangeKind.updated


def test_a_change_that_would_misplace_a_stored_child_is_refused() -> None:
    store = stored(province(), city(), county(), station(1))
    moved = replace(county(), region_code="330102")
    _, errors = plan([moved], store)
    assert fields(errors) == [(2, "region_code")]
    assert "its sub-org 330106-01 would no longer fit" in errors[0].reason


def test_closing_a_bureau_with_active_stations_is_refused_unless_they_close_too() -> None:
    store = stored(province(), city(), county(), station(1))
    closed = replace(county(), status=OrgStatus.closed)
    _, refused = plan([closed], store)
    assert fields(refused) == [(2, "status")]
    changes, errors = plan([closed, replace(station(1), status=OrgStatus.closed)], store)
    assert errors == []
    assert [c.kind for c in changes] == [ChangeKind.updated, ChangeKind.updated]


def test_a_rejected_parent_rejects_the_rows_that_rely_on_it() -> None:
    bad_county = replace(county(), region_code="330100", parent_code="330200-AMR")
    changes, errors = plan([bad_county, station(1)], stored(province(), city()))
    assert changes == []
    assert fields(errors) == [(2, "parent_code"), (3, "parent_code")]


def test_a_national_parent_holds_orgs_of_every_province() -> None:
    samr = OrgRecord("SAMR", "国家市场监督管理总局", OrgLevel.national, "110000", is_hq=True)
    changes, errors = plan([samr, replace(province(), parent_code="SAMR")], prefix="")
    assert errors == []
    assert changes[1].parent_org_id == changes[0].org.org_id
