"""Step 2 of §11: strict UTF-8 byte order, list by list in the spec's order, never repaired."""

from __future__ import annotations

from typing import Any

import pytest

from shuangsui.drawspec import outcome


def _code(bundle: dict[str, Any]) -> str:
    return str(outcome(bundle).get("error", "accepted"))


def _swap(items: list[Any], i: int = 0, j: int = 1) -> None:
    items[i], items[j] = items[j], items[i]


def test_strata_out_of_order_are_unsorted(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    _swap(bundle["commitment"]["strata"])
    assert _code(bundle) == "E_UNSORTED"


def test_repeated_stratum_is_a_duplicate(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["commitment"]["strata"][1]["stratum"] = "A"
    assert _code(bundle) == "E_DUPLICATE"


def test_beacon_commitments_must_ascend(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    _swap(bundle["commitment"]["beacon"]["commitments"])
    assert _code(bundle) == "E_UNSORTED"
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    commitments = bundle["commitment"]["beacon"]["commitments"]
    commitments[1] = commitments[0]
    assert _code(bundle) == "E_DUPLICATE"


@pytest.mark.parametrize(
    ("vector", "key"),
    [
        ("TV1-basic-strata", "manifest"),
        ("TV3-teams", "inspectors"),
        ("TV3-teams", "conflicts"),
    ],
)
def test_committed_lists_are_never_resorted(kit, vector: str, key: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of(vector)
    _swap(bundle[key], 1, 2)
    assert _code(bundle) == "E_UNSORTED"


@pytest.mark.parametrize(
    ("vector", "key", "id_field"),
    [
        ("TV1-basic-strata", "manifest", "subject_id"),
        ("TV3-teams", "inspectors", "inspector_id"),
    ],
)
def test_repeated_ids_are_duplicates(kit, vector: str, key: str, id_field: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of(vector)
    bundle[key][2][id_field] = bundle[key][1][id_field]
    assert _code(bundle) == "E_DUPLICATE"


def test_exclusions_must_ascend(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["exclusions"].insert(0, {"subject_id": "Z-99", "reason": "DEREGISTERED"})
    assert _code(bundle) == "E_UNSORTED"


def test_expertise_tags_must_ascend(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["inspectors"][3]["expertise"] = ["food", "drug"]
    assert _code(bundle) == "E_UNSORTED"
    bundle["inspectors"][3]["expertise"] = ["food", "food"]
    assert _code(bundle) == "E_DUPLICATE"


def test_conflict_pairs_compare_subject_then_inspector(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["conflicts"][0:2] = [
        {"subject_id": "91110105MA0A0001", "inspector_id": "I-02"},
        {"subject_id": "91110105MA0A0001", "inspector_id": "I-01"},
    ]
    assert _code(bundle) == "E_UNSORTED"
    bundle["conflicts"][1]["inspector_id"] = "I-02"
    assert _code(bundle) == "E_DUPLICATE"


def test_reveals_must_ascend_by_party_bytes(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    _swap(bundle["beacon_value"])
    assert _code(bundle) == "E_UNSORTED"
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    bundle["beacon_value"][1]["party_id"] = bundle["beacon_value"][0]["party_id"]
    assert _code(bundle) == "E_DUPLICATE"


def test_first_offending_pair_decides_the_code(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    m = bundle["manifest"]
    m[1]["subject_id"] = "A-00"  # descending first ...
    m[3]["subject_id"] = "A-03"  # ... then equal
    assert _code(bundle) == "E_UNSORTED"
    bundle = kit.bundle_of("TV1-basic-strata")
    m = bundle["manifest"]
    m[1]["subject_id"] = "A-01"  # equal first ...
    m[3]["subject_id"] = "A-00"  # ... then descending
    assert _code(bundle) == "E_DUPLICATE"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        # strata come before the manifest
        (
            lambda b: (_swap(b["commitment"]["strata"]), b["manifest"].append(b["manifest"][-1])),
            "E_UNSORTED",
        ),
        # the manifest comes before the exclusions
        (
            lambda b: (
                b["manifest"].append(b["manifest"][-1]),
                b["exclusions"].insert(0, {"subject_id": "Z", "reason": "r"}),
            ),
            "E_DUPLICATE",
        ),
        # the inspector list comes before any expertise list
        (
            lambda b: (
                b["inspectors"][0].update(expertise=["z", "a"]),
                b["inspectors"].append(b["inspectors"][-1]),
            ),
            "E_DUPLICATE",
        ),
        # expertise comes before the conflicts
        (
            lambda b: (
                b["inspectors"][3].update(expertise=["food", "food"]),
                _swap(b["conflicts"]),
            ),
            "E_DUPLICATE",
        ),
    ],
)
def test_lists_are_checked_in_the_spec_order(kit, mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    mutate(bundle)
    assert _code(bundle) == code


def test_reveals_are_checked_after_the_committed_lists(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    bundle["beacon_value"][1]["party_id"] = bundle["beacon_value"][0]["party_id"]
    _swap(bundle["manifest"])
    assert _code(bundle) == "E_UNSORTED"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("\uff21", "\U0001f600"),  # UTF-16 would put the emoji (a surrogate pair) first
        ("e\u0301", "\u00e9"),  # no normalization: these are different identifiers
        ("A", "A-01"),  # a proper prefix sorts first
        ("Z", "a"),
        ("中", "中国"),
    ],
)
def test_order_is_utf8_byte_order(kit, first: str, second: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV2-weighted")
    extra = [{"subject_id": f"M-{s}", "stratum": "LOW"} for s in (first, second)]
    bundle["manifest"] += extra
    assert _code(kit.rehash(bundle)) != "E_UNSORTED"
    bundle = kit.bundle_of("TV2-weighted")
    bundle["manifest"] += extra[::-1]
    assert _code(kit.rehash(bundle)) == "E_UNSORTED"
