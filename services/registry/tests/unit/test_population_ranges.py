"""The untagged count reads a region prefix as a range of codes (no I/O)."""

from shuangsui.registry.adapters.population import _range, narrowest


def test_the_narrower_of_scope_and_asked_region_is_counted():
    assert narrowest("33", "330881") == "330881"
    assert narrowest("330881", "33") == "330881"
    assert narrowest("3308", None) == "3308"
    assert narrowest("", None) == ""
    assert narrowest("3301", "330881") is None, "another county: nothing"


def test_a_prefix_is_exactly_a_range_of_digit_codes():
    low, high = _range("3308")
    inside = ["330800", "330881", "330899"]
    outside = ["330799", "330900", "33"]
    assert all(low <= code < high for code in inside)
    assert not any(low <= code < high for code in outside)
    low, high = _range("3309")
    assert high == "330:"
    assert high > "330999"
    low, high = _range("")
    assert all(low <= code < high for code in ("000000", "999999"))
