"""The tag filter type of the API (contracts) follows the registry's own tag rules."""

from shuangsui.contracts.codes import TAG_DIMENSIONS, TAG_VALUE_MAX
from shuangsui.registry.domain.tags import MAX_TAG_LENGTH, TagDimension


def test_the_contract_tag_dimensions_are_the_registrys():
    assert tuple(d.value for d in TagDimension) == TAG_DIMENSIONS


def test_the_contract_tag_value_length_is_the_registrys():
    assert TAG_VALUE_MAX == MAX_TAG_LENGTH
