"""A caller sees only its own jurisdiction: province, city or county by its region code, the
whole country for a national admin; objects outside it look exactly like missing ones."""

import pytest

from shuangsui.kernel.auth import Principal
from shuangsui.kernel.problems import NOT_FOUND, Problem
from shuangsui.kernel.scope import RegionScope


def principal(region: str, *roles: str) -> Principal:
    return Principal(sub="someone", roles=frozenset(roles or ("inspector",)), region_code=region)


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("330000", "33"), ("330100", "3301"), ("330106", "330106")],
    ids=["province", "city", "county"],
)
def test_scope_prefix_follows_the_level_of_the_callers_region(region, prefix):
    assert RegionScope.of(principal(region)).prefix == prefix


def test_national_admin_sees_every_region():
    assert RegionScope.of(principal("110000", "national_admin")).prefix == ""


def test_county_scope_allows_its_own_county():
    assert RegionScope.of(principal("330106")).allows("330106")


def test_county_scope_refuses_a_neighbouring_county():
    assert not RegionScope.of(principal("330106")).allows("330105")


def test_city_scope_allows_its_counties_but_not_another_citys():
    hangzhou = RegionScope.of(principal("330100"))

    assert (hangzhou.allows("330106"), hangzhou.allows("330206")) == (True, False)


def test_national_scope_allows_any_province():
    assert RegionScope.of(principal("110000", "national_admin")).allows("440305")


def test_out_of_scope_object_is_reported_as_not_found():
    with pytest.raises(Problem) as refused:
        RegionScope.of(principal("330106")).ensure_visible("440305", "subject")

    assert refused.value.kind == NOT_FOUND
    assert refused.value.detail == "no such subject"


def test_in_scope_object_is_visible():
    RegionScope.of(principal("330100")).ensure_visible("330106", "subject")


def test_token_with_an_unknown_region_code_is_refused_not_an_internal_error():
    with pytest.raises(Problem) as refused:
        RegionScope.of(principal("339999"))

    assert refused.value.kind.status == 403
