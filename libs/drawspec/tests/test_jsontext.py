"""§2.9–§2.11 JSON reading and the §4.2 canonical form."""

from __future__ import annotations

import hashlib
import json

import pytest

from shuangsui.drawspec.jsontext import (
    BomPrefixed,
    Defect,
    NotJson,
    canonical_json,
    first_defect,
    parse_json,
)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": 1, "a": 1}',
        b'{"x": [{"k": 1, "k": 2}]}',
        b"[1.0]",
        b"[1e2]",
        b"[1E2]",
        b"[-0.0]",
        b"[NaN]",
        b"[Infinity]",
        b"[-Infinity]",
        b"[9007199254740992]",
        b"[-9007199254740992]",
        b"[" + b"9" * 5000 + b"]",
        b'["\\ud800"]',
        b'["a\\udfffb"]',
        b'{"\\ud800": 1}',
        b'["\\ude00\\ud83d"]',
    ],
)
def test_json_outside_the_ids1_subset_is_marked_not_dropped(text: bytes) -> None:
    assert first_defect(parse_json(text)) is not None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"[9007199254740991]", [9007199254740991]),
        (b"[-9007199254740991]", [-9007199254740991]),
        (b"[-0]", [0]),
        (b'["\\ud83d\\ude00"]', ["\U0001f600"]),
        (b'["\\u00e9", "e\\u0301"]', ["\u00e9", "e\u0301"]),
        (b' \t\r\n{"a" : [true, false, null]} \n', {"a": [True, False, None]}),
    ],
)
def test_values_inside_the_subset_parse_exactly(text: bytes, value: object) -> None:
    tree = parse_json(text)
    assert first_defect(tree) is None
    assert tree == value


def test_escaped_surrogate_pair_is_one_scalar_value() -> None:
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"[01]",
        b"[+1]",
        b"[1.]",
        b"[.5]",
        b"{} {}",
        b"{} x",
        b"{'a': 1}",
        b'{"a": 1,}',
        b'["tab\there"]',
        b"\xff{}",
        b'["\xed\xa0\x80"]',  # a surrogate encoded directly is not UTF-8
        b'["\xc0\xaf"]',  # overlong encoding
        b"\xef\xbb\xbf\xef\xbb\xbf{}",
        "{}\u00a0".encode(),
    ],
)
def test_non_json_is_reported_as_not_json(text: bytes) -> None:
    with pytest.raises(NotJson):
        parse_json(text)


def test_bom_prefixed_json_is_json_but_flagged() -> None:
    with pytest.raises(BomPrefixed) as caught:
        parse_json(b'\xef\xbb\xbf{"a": 1}')
    assert caught.value.tree == {"a": 1}


def test_defect_reports_its_path() -> None:
    tree = parse_json(b'{"manifest": [{"weight": 1}, {"weight": 2.5}]}')
    found = first_defect(tree)
    assert found is not None
    assert found[0] == "manifest[1].weight"
    assert isinstance(tree, dict)
    assert isinstance(tree["manifest"][1]["weight"], Defect)


def test_deep_nesting_does_not_crash_the_walk() -> None:
    tree: list[object] = []
    node = tree
    for _ in range(50_000):
        child: list[object] = []
        node.append(child)
        node = child
    assert first_defect(tree) is None  # type: ignore[arg-type]


TV1_CANONICAL = (
    '{"beacon":{"source":"fixed","value":"5f3be94dddf83cdc2cfed1a2cb2e6947d42602031a3007e0145158'
    'b51208bd82"},"committed_at":"2025-03-03T01:30:00Z","conflicts_sha256":"27200baf13d3c2557526'
    '10cd587dfab76c8f0b7ac1b03fba6b3a0e7049269781","draw_id":"2025-SPOT-0001","exclusions_sha256'
    '":"5d4f531b8877784e8c0617991c18959f89ae333d1f1e9053956269e734e5f10b","inspectors_sha256":"8'
    '0c5a07f50733b1eb1f6374cf9589236be45a0ec090e711075083428dcfca9a0","manifest_sha256":"32b74af'
    '74dc9fde67f0ff2055cd422674d8c369d72bba0502a07241c740bf4a0","spec":"IDS-1","strata":[{"ratio'
    '":"1/5","stratum":"A"},{"ratio":"3/10","stratum":"B"},{"ratio":"3/5","stratum":"C"}],"team":'
    "null}"
)


def test_canonical_form_of_tv1_matches_section_12(kit) -> None:  # type: ignore[no-untyped-def]
    doc = kit.load_vector("TV1-basic-strata")["bundle"]["commitment"]
    canonical = canonical_json(doc)
    assert len(canonical) == 643
    assert canonical.decode() == TV1_CANONICAL
    assert hashlib.sha256(canonical).hexdigest() == (
        "1084b6814c51782b4ab7c660aa7b75615085543efe2287fe97f778e66d3fe3e9"
    )


def test_canonical_form_escapes_only_what_jcs_escapes() -> None:
    value = {"b": 'q"\\\b\t\n\f\r\x00\x1f\x7f\u2028中', "a": 0}
    expected = '{"a":0,"b":"q\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\x7f\u2028中"}'
    assert canonical_json(value) == expected.encode("utf-8")


def test_negative_zero_enters_the_canonical_form_as_zero() -> None:
    tree = parse_json(b'{"count": -0}')
    assert canonical_json(tree) == b'{"count":0}'
    assert json.loads(canonical_json(tree)) == {"count": 0}
