"""The structured verdict `ids1 verify` prints and services answer with (§10.5, §11)."""

from __future__ import annotations

import copy

from shuangsui.drawspec import Verdict, verdict_of


def _steps(verdict: Verdict) -> dict[str, bool | None]:
    return {c.name: c.passed for c in verdict.checks}


def test_a_published_result_equal_to_the_computed_one_passes_every_step(kit) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV3-teams")
    verdict = verdict_of(vector["bundle"], vector["expected"])
    assert verdict.match
    assert verdict.to_json() == {"match": True, "outcome": "result", "field": None}
    assert [c.step for c in verdict.checks] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert set(_steps(verdict).values()) == {True}


def test_a_swapped_selection_names_the_field_and_both_values(kit) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV1-basic-strata")
    published = copy.deepcopy(vector["expected"])
    published["strata"][0]["selected"][1] = "A-07"
    verdict = verdict_of(vector["bundle"], published)
    assert not verdict.match
    assert verdict.field == "strata[0].selected[1]"
    assert verdict.to_json()["published"] == "A-07"
    assert verdict.to_json()["computed"] == vector["expected"]["strata"][0]["selected"][1]
    assert verdict.outcome == "result"  # the bundle itself is sound


def test_a_rejected_bundle_stops_at_its_step_and_runs_no_later_one(kit) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV5-reject-hash-mismatch")
    verdict = verdict_of(vector["bundle"], {"error": "E_HASH_MISMATCH"})
    assert verdict.match  # a rejection matches by code only (§10.4)
    assert verdict.outcome == "E_HASH_MISMATCH"
    steps = _steps(verdict)
    assert (steps["schema"], steps["order"], steps["list_hashes"]) == (True, True, False)
    assert {steps[n] for n in ("exclusions", "strata", "beacon", "compute", "recusals")} == {None}


def test_a_result_published_for_a_rejected_bundle_does_not_match(kit) -> None:  # type: ignore[no-untyped-def]
    tampered = kit.load_vector("TV5-reject-hash-mismatch")
    published = kit.load_vector("TV1-basic-strata")["expected"]
    verdict = verdict_of(tampered["bundle"], published)
    assert not verdict.match
    assert verdict.outcome == "E_HASH_MISMATCH"
