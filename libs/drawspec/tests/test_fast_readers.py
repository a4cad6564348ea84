"""The one-pass readers of whole lists and the proved-clean tree give exactly what the
entry-by-entry readers and the walk give: the same objects, the same first error."""

from __future__ import annotations

import pytest

from shuangsui.drawspec import Rejected, schema
from shuangsui.drawspec.jsontext import Defect, JsonValue, _walk, first_defect
from shuangsui.drawspec.lists import read_conflict, read_conflicts, read_subject, read_subjects

GOOD: list[JsonValue] = [
    {"subject_id": f"s{i}", "stratum": "A", "unit": "u", "weight": 1 + i % 3} for i in range(5)
]
BAD_SUBJECTS: list[JsonValue] = [
    {"subject_id": "s9", "stratum": "A", "unit": "u", "weight": True},
    {"subject_id": "s9", "stratum": "A", "unit": "u", "weight": 1001},
    {"subject_id": "", "stratum": "A", "unit": "u", "weight": 1},
    {"subject_id": "s9\ud800", "stratum": "A", "unit": "u", "weight": 1},
    {"subject_id": "s9", "stratum": "A", "unit": "\udc00", "weight": 1},
    {"subject_id": "s9", "stratum": "A"},
    {"subject_id": "s9", "stratum": "A", "extra": 1, "weight": 1},
    ["not", "an", "object"],
]


def _outcome(read, value: JsonValue) -> object:  # type: ignore[no-untyped-def]
    try:
        return read(value)
    except Rejected as rejection:
        return rejection.to_json()


@pytest.mark.parametrize("bad", [None, *BAD_SUBJECTS])
def test_read_subjects_is_read_subject_entry_by_entry(bad: JsonValue) -> None:
    value = [*GOOD] if bad is None else [*GOOD[:3], bad, *GOOD[3:]]
    fast = _outcome(lambda v: read_subjects(v, "manifest"), value)
    slow = _outcome(lambda v: schema.items(v, "manifest", read_subject), value)
    assert fast == slow


@pytest.mark.parametrize(
    "bad",
    [None, {"subject_id": 1, "inspector_id": "i"}, {"subject_id": "s", "inspector_id": "\ud83d"}],
)
def test_read_conflicts_is_read_conflict_entry_by_entry(bad: JsonValue) -> None:
    good: list[JsonValue] = [{"subject_id": f"s{i}", "inspector_id": "i"} for i in range(3)]
    value = good if bad is None else [good[0], bad, *good[1:]]
    fast = _outcome(lambda v: read_conflicts(v, "conflicts"), value)
    slow = _outcome(lambda v: schema.items(v, "conflicts", read_conflict), value)
    assert fast == slow


def _walked(value: JsonValue) -> tuple[str, str] | None:
    for path, node in _walk(value, ""):
        if isinstance(node, Defect):
            return path, node.reason
        if isinstance(node, str) and any("\ud800" <= ch <= "\udfff" for ch in node):
            return path, "string with an unpaired surrogate"
    return None


@pytest.mark.parametrize(
    "tree",
    [
        {"a": [1, "x", {"b": None}]},
        {"a": [1, Defect("a fraction"), {"b": "\ud800"}]},
        {"a": {"\udc00": 1}},
        {"a": [{"b": "ok"}, {"c": "x\udfff"}]},
    ],
)
def test_first_defect_is_the_walks(tree: JsonValue) -> None:
    assert first_defect(tree) == _walked(tree)
