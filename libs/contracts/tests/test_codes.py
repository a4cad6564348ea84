"""Industry codes, unit codes and tags: what each accepts, and the error type that names it."""

import pytest
from pydantic import TypeAdapter, ValidationError

from shuangsui.contracts.codes import IndustryCode, Tag, UnitCode

CASES = [
    (
        IndustryCode,
        ["C", "C13", "C131", "C1311", "T97"],
        ["", "C1", "C13111", "c13", "U10", "Ｃ13"],
    ),
    (
        UnitCode,
        ["330106-01", "330106-AMR", "ZJ_HZ.01", "x" * 40],
        ["", "x" * 41, "西湖一所", "a b"],
    ),
    (
        Tag,
        ["format:餐饮服务", "scale:小微", "carrier:网络", "category:" + "茶" * 40],
        ["colour:红", "format:", "format: 餐饮", "format:a:b", "format:" + "茶" * 41, "餐饮服务"],
    ),
]


@pytest.mark.parametrize(("kind", "good", "bad"), CASES, ids=["industry", "unit", "tag"])
def test_codes_accept_their_pattern_and_refuse_the_rest(kind, good, bad):
    adapter = TypeAdapter(kind)
    assert [adapter.validate_python(value) for value in good] == good
    for value in bad:
        with pytest.raises(ValidationError) as refused:
            adapter.validate_python(value)
        assert refused.value.errors()[0]["type"].endswith("_format"), value
