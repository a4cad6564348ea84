"""Step 1 of §11: every shape rule of §2–§5 and §10.1 gives `E_SCHEMA`, and nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from shuangsui.drawspec import Rejected, outcome, verify_bytes
from shuangsui.drawspec.commitment import commitment_hash

MISSING = object()
Path = tuple[str | int, ...]


def _edit(bundle: dict[str, Any], path: Path, value: object) -> None:
    node: Any = bundle
    for key in path[:-1]:
        node = node[key]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value


C = "commitment"
TEAM = (C, "team")
BEACON = (C, "beacon")

SCHEMA_CASES: list[tuple[str, Path, object]] = [
    ("TV1-basic-strata", ("extra",), 1),
    ("TV1-basic-strata", ("conflicts",), MISSING),
    ("TV1-basic-strata", ("recusals",), None),
    ("TV1-basic-strata", ("manifest",), {}),
    ("TV1-basic-strata", (C,), []),
    ("TV1-basic-strata", (C, "spec"), "IDS-2"),
    ("TV1-basic-strata", (C, "spec"), MISSING),
    ("TV1-basic-strata", (C, "note"), "x"),
    ("TV1-basic-strata", (C, "draw_id"), ""),
    ("TV1-basic-strata", (C, "draw_id"), 7),
    ("TV1-basic-strata", (C, "team"), MISSING),
    ("TV1-basic-strata", (C, "team"), False),
    ("TV1-basic-strata", (C, "strata"), {}),
    ("TV1-basic-strata", (C, "strata", 0, "count"), 1),
    ("TV1-basic-strata", (C, "strata", 0, "ratio"), MISSING),
    ("TV1-basic-strata", (C, "strata", 0, "stratum"), ""),
    ("TV1-basic-strata", (C, "strata", 0, "extra"), 1),
    *[
        ("TV1-basic-strata", (C, "strata", 0, "ratio"), bad)
        for bad in [
            "01/5",
            "1/05",
            "00/5",
            "1/0",
            "0/0",
            "6/5",
            "10/9",
            " 1/5",
            "1/5 ",
            "+1/5",
            "-1/5",
            "１/5",
            "1/٥",
            "1/5/1",
            "1.0/5",
            "1/5\n",
            "/5",
            "1/",
            "",
            1,
            None,
        ]
    ],
    ("TV2-weighted", (C, "strata", 0, "count"), -1),
    ("TV2-weighted", (C, "strata", 0, "count"), True),
    ("TV2-weighted", (C, "strata", 0, "count"), "4"),
    (
        "TV1-basic-strata",
        (C, "manifest_sha256"),
        "32B74AF74DC9FDE67F0FF2055CD422674D8C369D72BBA0502A07241C740BF4A0",
    ),
    ("TV1-basic-strata", (C, "exclusions_sha256"), "5d4f"),
    ("TV1-basic-strata", (C, "committed_at"), "2025-03-03T01:30:00"),
    ("TV1-basic-strata", (C, "committed_at"), "2025-03-03T24:00:00Z"),
    ("TV3-teams", (*TEAM, "size"), 0),
    ("TV3-teams", (*TEAM, "size"), 1001),
    ("TV3-teams", (*TEAM, "size"), True),
    ("TV3-teams", (*TEAM, "lead_expertise"), ""),
    ("TV3-teams", (*TEAM, "lead_expertise"), "food,drug"),
    ("TV3-teams", (*TEAM, "lead_expertise"), 1),
    ("TV3-teams", (*TEAM, "lead_expertise"), MISSING),
    ("TV3-teams", (*TEAM, "scope"), "ALL"),
    ("TV3-teams", (*TEAM, "scope"), None),
    ("TV3-teams", (*TEAM, "task_date"), "2025-02-30"),
    ("TV3-teams", (*TEAM, "task_date"), MISSING),
    ("TV3-teams", (*TEAM, "extra"), 1),
    ("TV1-basic-strata", BEACON, "fixed"),
    ("TV1-basic-strata", (*BEACON, "source"), MISSING),
    ("TV1-basic-strata", (*BEACON, "source"), "Fixed"),
    ("TV1-basic-strata", (*BEACON, "source"), 1),
    ("TV1-basic-strata", (*BEACON, "round"), 1),
    (
        "TV1-basic-strata",
        (*BEACON, "value"),
        "5F3BE94DDDF83CDC2CFED1A2CB2E6947D42602031A3007E0145158B51208BD82",
    ),
    (
        "TV1-basic-strata",
        ("beacon_value",),
        "5F3BE94DDDF83CDC2CFED1A2CB2E6947D42602031A3007E0145158B51208BD82",
    ),
    ("TV1-basic-strata", ("beacon_value",), {"value": "00"}),
    ("TV1-basic-strata", ("beacon_value",), MISSING),
    ("TV6-drand-real-round", (*BEACON, "round"), 0),
    ("TV6-drand-real-round", (*BEACON, "round"), -5),
    ("TV6-drand-real-round", (*BEACON, "round"), "657413"),
    (
        "TV6-drand-real-round",
        (*BEACON, "chain_hash"),
        "52DB9BA70E0CC0F6EAF7803DD07447A1F5477735FD3F661792BA94600C84E971",
    ),
    ("TV6-drand-real-round", (*BEACON, "chain_hash"), MISSING),
    ("TV6-drand-real-round", ("beacon_value", "signature"), ""),
    ("TV6-drand-real-round", ("beacon_value", "signature"), "abc"),
    ("TV6-drand-real-round", ("beacon_value", "signature"), "ABCD"),
    ("TV6-drand-real-round", ("beacon_value", "randomness"), "fc1873a1"),
    ("TV6-drand-real-round", ("beacon_value", "round"), 657413),
    (
        "TV6-drand-real-round",
        ("beacon_value",),
        "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
    ),
    (
        "TV4-commit-reveal-chinese",
        (*BEACON, "commitments"),
        ["11b8bb7c24a0322a484820d7df84403103be68920b274fa7a0f546c7a423fd35"],
    ),
    ("TV4-commit-reveal-chinese", (*BEACON, "commitments"), []),
    (
        "TV4-commit-reveal-chinese",
        (*BEACON, "commitments", 0),
        "11B8BB7C24A0322A484820D7DF84403103BE68920B274FA7A0F546C7A423FD35",
    ),
    ("TV4-commit-reveal-chinese", ("beacon_value", 0, "party_id"), ""),
    ("TV4-commit-reveal-chinese", ("beacon_value", 0, "secret"), "5bcd"),
    ("TV4-commit-reveal-chinese", ("beacon_value", 0, "extra"), 1),
    ("TV4-commit-reveal-chinese", ("beacon_value",), {"公证处": "00"}),
    ("TV1-basic-strata", ("manifest", 0, "subject_id"), ""),
    ("TV1-basic-strata", ("manifest", 0, "stratum"), ""),
    ("TV1-basic-strata", ("manifest", 0, "stratum"), MISSING),
    ("TV1-basic-strata", ("manifest", 0, "unit"), None),
    ("TV1-basic-strata", ("manifest", 0, "weight"), 0),
    ("TV1-basic-strata", ("manifest", 0, "weight"), 1001),
    ("TV1-basic-strata", ("manifest", 0, "weight"), True),
    ("TV1-basic-strata", ("manifest", 0, "weight"), "1"),
    ("TV1-basic-strata", ("manifest", 0, "weight"), None),
    ("TV1-basic-strata", ("manifest", 0, "name"), "x"),
    ("TV1-basic-strata", ("exclusions", 0, "reason"), ""),
    ("TV1-basic-strata", ("exclusions", 0, "reason"), MISSING),
    ("TV1-basic-strata", ("exclusions", 0, "reason"), "\ud800"),
    ("TV3-teams", ("inspectors", 0, "unit"), MISSING),
    ("TV3-teams", ("inspectors", 0, "expertise"), "food"),
    ("TV3-teams", ("inspectors", 0, "expertise"), [""]),
    ("TV3-teams", ("inspectors", 0, "expertise"), ["food,drug"]),
    ("TV3-teams", ("inspectors", 0, "cert_valid_until"), "2026-12-31T00:00:00Z"),
    ("TV3-teams", ("conflicts", 0, "inspector_id"), MISSING),
    ("TV3-teams", ("conflicts", 0, "extra"), 1),
    ("TV3-teams", ("recusals", 0, "subject_id"), ""),
    ("TV3-teams", ("recusals", 0, "inspector_id"), ""),
    ("TV3-teams", ("recusals", 0, "reason"), None),
    ("TV3-teams", ("recusals", 0, "reason"), 3),
    ("TV3-teams", ("recusals", 0, "role"), "lead"),
]


@pytest.mark.parametrize(("vector", "path", "value"), SCHEMA_CASES)
def test_malformed_bundle_is_a_schema_error(kit, vector: str, path: Path, value: object) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of(vector)
    _edit(bundle, path, value)
    assert outcome(bundle)["error"] == "E_SCHEMA"


@pytest.mark.parametrize(
    "text",
    [
        b"[]",
        b'"bundle"',
        b"null",
        b"\xef\xbb\xbf{}",
        b"not json",
        b"{} trailing",
        b"\xff\xfe{\x00}\x00",
    ],
)
def test_bytes_that_are_not_a_single_json_object_are_schema_errors(text: bytes) -> None:
    with pytest.raises(Rejected) as caught:
        verify_bytes(text)
    assert caught.value.code == "E_SCHEMA"


def _tv1_bytes(kit, old: str, new: str) -> bytes:  # type: ignore[no-untyped-def]
    text = kit.to_bytes(kit.bundle_of("TV1-basic-strata")).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"weight": 1', '"weight": 1.0'),
        ('"weight": 1', '"weight": 1e0'),
        ('"weight": 1', '"weight": -0'),
        ('"weight": 1', '"weight": 1, "weight": 1'),
        ('"subject_id": "A-01"', '"subject_id": "A-\\ud800"'),
        ('"reason": "INSPECTED_THIS_YEAR"', '"reason": "\\udc00"'),
        ('"draw_id": "2025-SPOT-0001"', '"draw_id": "2025-SPOT-0001", "draw_id": "2025-SPOT-0001"'),
    ],
)
def test_json_level_defects_are_schema_errors(kit, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Rejected) as caught:
        verify_bytes(_tv1_bytes(kit, old, new))
    assert caught.value.code == "E_SCHEMA"


def test_schema_errors_win_over_later_defects(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["manifest"].reverse()  # step 2 defect
    bundle["commitment"]["manifest_sha256"] = "0" * 64  # step 3 defect
    bundle["beacon_value"] = "1" * 64  # step 6 defect
    bundle["exclusions"][0]["reason"] = ""  # step 1 defect, last in the document
    assert outcome(bundle)["error"] == "E_SCHEMA"


def test_negative_zero_count_is_zero_in_the_commitment(kit) -> None:  # type: ignore[no-untyped-def]
    data = kit.to_bytes(kit.bundle_of("TV2-weighted")).replace(b'"count": 4', b'"count": -0')
    result = verify_bytes(data)
    zero = kit.bundle_of("TV2-weighted")
    zero["commitment"]["strata"][0]["count"] = 0
    assert result["commitment_sha256"] == commitment_hash(zero["commitment"]).hex()
    assert result["strata"][0]["sample_size"] == 0


@pytest.mark.parametrize(
    "ratio",
    ["9007199254740993/9007199254740993", "7" * 5000 + "/" + "7" * 5000, "0/1", "1/1"],
)
def test_ratios_of_any_length_are_accepted(kit, ratio: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["commitment"]["strata"][0]["ratio"] = ratio
    result = outcome(bundle)
    assert "error" not in result
    expected = 0 if ratio == "0/1" else 8
    assert result["strata"][0]["sample_size"] == expected


def test_free_text_reasons_are_accepted_as_given(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["recusals"][0]["reason"] = ""
    assert "error" not in outcome(bundle)
    other = kit.bundle_of("TV1-basic-strata")
    other["exclusions"].append({"subject_id": "ZZZ", "reason": " \t\x01 any text \u2028"})
    assert "error" not in outcome(kit.rehash(other))


def test_escaped_surrogate_pair_is_a_valid_identifier(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV2-weighted")
    bundle["manifest"].append({"subject_id": "\U0001f600", "stratum": "LOW"})
    kit.rehash(bundle)
    data = kit.to_bytes(bundle).replace("\U0001f600".encode(), b"\\ud83d\\ude00")
    result = verify_bytes(data)
    assert result["strata"][1]["population"] == 7


def test_lead_tag_that_nobody_holds_is_valid(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["commitment"]["team"]["lead_expertise"] = "nuclear"
    bundle.pop("recusals")
    result = outcome(bundle)
    assert {a["infeasible"] for a in result["assignments"]} == {"no_qualified_lead"}
