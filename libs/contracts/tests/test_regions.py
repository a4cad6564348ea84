"""GB/T 2260 region codes over python-stdnum's dataset."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from pydantic import BaseModel, ValidationError

from shuangsui.contracts import _region_data
from shuangsui.contracts.regions import (
    REGION_DATA_VERSION,
    CurrentRegionCode,
    InvalidRegionCode,
    RegionCode,
    contains,
    is_in_force,
    level_of,
    nats_province_token,
    province_of,
    province_region,
    region_data_provenance,
    region_info,
    region_name,
    scope_prefix,
    validate_region_code,
)

# The 34 provincial-level divisions of GB/T 2260: 31 on the mainland, Taiwan, Hong Kong, Macao.
PROVINCE_PREFIXES = (
    *("11", "12", "13", "14", "15"),  # 华北
    *("21", "22", "23"),  # 东北
    *("31", "32", "33", "34", "35", "36", "37"),  # 华东
    *("41", "42", "43", "44", "45", "46"),  # 中南
    *("50", "51", "52", "53", "54"),  # 西南
    *("61", "62", "63", "64", "65"),  # 西北
    *("71", "81", "82"),  # 台湾, 香港, 澳门
)


class Org(BaseModel):
    region_code: CurrentRegionCode


class Subject(BaseModel):
    region_code: RegionCode


@pytest.mark.parametrize(
    ("code", "level", "name"),
    [
        ("330000", "province", "浙江省"),
        ("330100", "city", "杭州市"),
        ("330106", "county", "西湖区"),
        ("110000", "province", "北京市"),
        ("110105", "county", "朝阳区"),
        ("441900", "city", "东莞市"),  # a prefecture-level city without counties
    ],
)
def test_codes_resolve_to_their_level_and_name(code: str, level: str, name: str) -> None:
    assert validate_region_code(code, in_force=True) == code
    assert level_of(code) == level
    assert region_name(code) == name


@pytest.mark.parametrize("prefix", PROVINCE_PREFIXES)
def test_every_provincial_level_division_is_known(prefix: str) -> None:
    assert level_of(prefix + "0000") == "province"
    assert is_in_force(prefix + "0000")


def test_no_province_outside_gb_t_2260_is_known() -> None:
    provinces = {c[:2] for c, info in _region_data.region_index().items()}
    assert provinces == set(PROVINCE_PREFIXES)


@pytest.mark.parametrize("code", ["990000", "339999", "100000", "000000"])
def test_unknown_codes_are_rejected_as_unknown(code: str) -> None:
    with pytest.raises(InvalidRegionCode) as info:
        region_info(code)
    assert info.value.reason == "unknown"


@pytest.mark.parametrize("code", ["", "33", "33010", "3301060", "33010a", "３３０１０６", "33 106"])
def test_anything_but_six_ascii_digits_is_rejected_as_format(code: str) -> None:
    with pytest.raises(InvalidRegionCode) as info:
        region_info(code)
    assert info.value.reason == "format"


def test_abolished_codes_are_known_but_not_in_force() -> None:
    # 下城区 was merged into 拱墅区 in 2021 (国务院批复, 杭州 district reform).
    info = region_info("330103")
    assert (info.name, info.in_force, info.abolished_in) == ("下城区", False, 2021)
    assert validate_region_code("330103") == "330103"
    with pytest.raises(InvalidRegionCode) as error:
        validate_region_code("330103", in_force=True)
    assert error.value.reason == "abolished"
    assert "2021" in str(error.value)


def test_chongqing_2025_reform_is_in_the_data() -> None:
    # 撤销江北区、渝北区，设立两江新区 (announced 6 November 2025).
    assert is_in_force("500157")
    assert region_name("500157") == "两江新区"
    assert not is_in_force("500105")
    assert not is_in_force("500112")


def test_event_field_accepts_abolished_codes_and_org_field_does_not() -> None:
    assert Subject(region_code="500105").region_code == "500105"
    with pytest.raises(ValidationError) as info:
        Org(region_code="500105")
    assert info.value.errors()[0]["type"] == "region_code_abolished"
    with pytest.raises(ValidationError) as info:
        Subject(region_code="339999")
    assert info.value.errors()[0]["type"] == "region_code_unknown"
    assert Subject.model_json_schema()["properties"]["region_code"]["pattern"] == "^[0-9]{6}$"


def test_province_helpers() -> None:
    assert province_of("330106") == "33"
    assert province_region("330106") == "330000"
    assert province_region("330000") == "330000"
    assert nats_province_token("330106") == "p33"
    assert nats_province_token("110000") == "p11"


@pytest.mark.parametrize(
    ("code", "prefix"),
    [("330000", "33"), ("330100", "3301"), ("330106", "330106"), ("429000", "4290")],
)
def test_scope_prefix_is_the_significant_part(code: str, prefix: str) -> None:
    assert scope_prefix(code) == prefix


@pytest.mark.parametrize(
    ("scope", "code", "inside"),
    [
        ("330000", "330106", True),
        ("330100", "330106", True),
        ("330106", "330106", True),
        ("330000", "330000", True),
        ("330100", "330200", False),  # 宁波市 is not inside 杭州市
        ("330100", "330206", False),
        ("320000", "330106", False),
        ("330106", "330100", False),  # a county does not contain its city
        ("330000", "330103", True),  # abolished codes still nest by their digits
        ("420000", "429004", True),  # 仙桃市, directly under 湖北省
    ],
)
def test_containment(scope: str, code: str, inside: bool) -> None:
    assert contains(scope, code) is inside


def test_containment_rejects_unknown_codes() -> None:
    with pytest.raises(InvalidRegionCode):
        contains("330000", "339999")


def test_every_code_sits_under_a_known_city_and_province() -> None:
    index = _region_data.region_index()
    for code, info in index.items():
        assert info.code == code
        assert code[:2] + "0000" in index
        if info.level == "county":
            assert code[:4] + "00" in index, code


def test_province_and_city_codes_are_derived_when_the_data_lists_only_counties() -> None:
    index = _region_data.build_index(
        [("33", "浙江省", {"0102": "[1983-]上城区", "0103": "[1983-2021]下城区"})]
    )
    province, city = index["330000"], index["330100"]
    assert (province.level, province.name, province.in_force, province.derived) == (
        "province",
        "浙江省",
        True,
        True,
    )
    assert (city.level, city.in_force, city.derived, city.since) == ("city", True, True, 1983)
    assert index["330103"].in_force is False


def test_a_derived_city_whose_counties_are_all_abolished_is_not_in_force() -> None:
    index = _region_data.build_index([("33", "浙江省", {"0120": "[-1983]市区"})])
    assert index["330100"].in_force is False
    assert index["330100"].abolished_in == 1983


def test_renamed_codes_carry_their_current_name() -> None:
    index = _region_data.build_index(
        [("33", "浙江省", {"0206": "[1985-1986]滨海区,[1987-]北仑区"})]
    )
    assert (index["330206"].name, index["330206"].since, index["330206"].in_force) == (
        "北仑区",
        1985,
        True,
    )


def test_provenance_names_the_package_version_and_source() -> None:
    installed = version("python-stdnum")
    assert installed in REGION_DATA_VERSION
    provenance = region_data_provenance()
    assert provenance.package_version == installed
    assert provenance.sources
    assert all("wikipedia.org" in s for s in provenance.sources)
    assert provenance.latest_change_year >= 2025
    assert 0 < provenance.codes_in_force < provenance.codes_total
