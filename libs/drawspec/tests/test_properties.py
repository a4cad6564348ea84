"""Property tests: what the library builds, its own verifier accepts; any single change to a
committed list, the beacon value or a reveal is rejected with the right code; shuffled lists
are rejected, never silently re-sorted."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuangsui.drawspec import (
    CommitRevealBeacon,
    DrawInputs,
    FixedBeacon,
    Ratio,
    Recusal,
    Reveal,
    StratumRule,
    TeamRule,
    build_bundle,
    build_commitment,
    outcome,
)
from shuangsui.drawspec.beacon import party_commitment

PROPERTY = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Identifiers mixing ASCII, BMP and astral characters, so byte order matters.
ID_CHARS = st.sampled_from(["A", "B", "z", "0", "-", "é", "中", "Ａ", "\U0001f600", "\u0301"])
IDS = st.text(ID_CHARS, min_size=1, max_size=4)
TAGS = ["drug", "food", "食品"]
UNITS = ["", "U1", "U2"]


def _by_bytes(values: list[str]) -> list[str]:
    return sorted(values, key=lambda v: v.encode())


@dataclass
class Draw:
    """A generated draw: its JSON inputs and rules, before bundling."""

    lists: dict[str, list[dict[str, Any]]]
    strata: list[StratumRule]
    team: TeamRule | None
    beacon: FixedBeacon | CommitRevealBeacon
    beacon_value: str | tuple[Reveal, ...]


@st.composite
def draws(draw: st.DrawFn) -> Draw:
    names = _by_bytes(draw(st.lists(IDS, min_size=1, max_size=3, unique=True)))
    subject_ids = _by_bytes(draw(st.lists(IDS, min_size=1, max_size=20, unique=True)))
    manifest = [
        {
            "subject_id": s,
            "stratum": draw(st.sampled_from(names)),
            "unit": draw(st.sampled_from(UNITS)),
            "weight": draw(st.integers(1, 12)),
        }
        for s in subject_ids
    ]
    excluded = _by_bytes(draw(st.lists(IDS, max_size=3, unique=True)))
    exclusions = [
        {"subject_id": f"X{e}", "reason": draw(st.sampled_from(["DEREGISTERED", "其他 "]))}
        for e in excluded
    ]
    inspector_ids = _by_bytes(draw(st.lists(IDS, max_size=8, unique=True)))
    inspectors = [
        {
            "inspector_id": i,
            "unit": draw(st.sampled_from(UNITS)),
            "expertise": _by_bytes(draw(st.lists(st.sampled_from(TAGS), unique=True))),
            "cert_valid_until": draw(st.sampled_from(["2025-04-14", "2025-04-15", "2026-01-01"])),
        }
        for i in inspector_ids
    ]
    pairs = draw(st.lists(st.tuples(st.sampled_from(subject_ids), IDS), max_size=4, unique=True))
    conflicts = [
        {"subject_id": s, "inspector_id": i}
        for s, i in sorted(pairs, key=lambda p: (p[0].encode(), p[1].encode()))
    ]
    strata = [
        StratumRule(
            n,
            draw(
                st.one_of(
                    st.integers(0, 6),
                    st.tuples(st.integers(1, 10), st.integers(0, 10)).map(
                        lambda ba: Ratio(str(min(ba[1], ba[0])), str(ba[0]))
                    ),
                )
            ),
        )
        for n in names
    ]
    team = draw(
        st.none()
        | st.builds(
            TeamRule,
            size=st.integers(1, 3),
            lead_expertise=st.sampled_from([None, "food", "食品"]),
            scope=st.sampled_from(["all", "same-unit"]),
            task_date=st.just("2025-04-15"),
        )
    )
    beacon: FixedBeacon | CommitRevealBeacon
    value: str | tuple[Reveal, ...]
    if draw(st.booleans()):
        value = draw(st.binary(min_size=32, max_size=32)).hex()
        beacon = FixedBeacon(value)
    else:
        parties = _by_bytes(draw(st.lists(IDS, min_size=2, max_size=3, unique=True)))
        value = tuple(Reveal(p, draw(st.binary(min_size=32, max_size=32)).hex()) for p in parties)
        commitments = sorted(
            party_commitment(r.party_id, bytes.fromhex(r.secret)).hex() for r in value
        )
        beacon = CommitRevealBeacon(tuple(commitments))
    lists = {
        "manifest": manifest,
        "exclusions": exclusions,
        "inspectors": inspectors,
        "conflicts": conflicts,
    }
    return Draw(lists, strata, team, beacon, value)


def build(d: Draw, recusals: tuple[Recusal, ...] = ()) -> dict[str, Any]:
    inputs = DrawInputs.from_json(**copy.deepcopy(d.lists))  # type: ignore[arg-type]
    doc = build_commitment(
        inputs,
        draw_id="PROP-1",
        strata=d.strata,
        team=d.team,
        beacon=d.beacon,
        committed_at="2025-03-01T00:00:00Z",
    )
    return build_bundle(doc, d.beacon_value, inputs, recusals)


def _valid_recusals(result: dict[str, Any]) -> tuple[Recusal, ...]:
    chosen = []
    for a in result["assignments"]:
        if "lead" in a:
            chosen.append(Recusal(a["subject"], a["members"][0] if a["members"] else a["lead"]))
    return tuple(chosen[:3])


@PROPERTY
@given(draws())
def test_bundles_the_library_builds_are_accepted(d: Draw) -> None:
    result = outcome(build(d))
    assert "error" not in result, result
    recusals = _valid_recusals(result)
    again = outcome(build(d, recusals))
    assert "error" not in again, again
    assert len(again["replacements"]) == len(recusals)
    assert again["assignments"] == result["assignments"]


def _mutations(bundle: dict[str, Any]) -> list[tuple[str, Any]]:
    """(expected code, mutate-function) pairs that keep every list sorted and well-formed."""
    options: list[tuple[str, Any]] = []
    if bundle["manifest"]:
        options.append(
            (
                "E_HASH_MISMATCH",
                lambda b: b["manifest"][0].update(weight=b["manifest"][0]["weight"] % 12 + 1),
            )
        )
        options.append(
            (
                "E_HASH_MISMATCH",
                lambda b: b["manifest"][-1].update(unit=b["manifest"][-1]["unit"] + "x"),
            )
        )
    if bundle["exclusions"]:
        options.append(("E_HASH_MISMATCH", lambda b: b["exclusions"].pop()))
        options.append(("E_HASH_MISMATCH", lambda b: b["exclusions"][0].update(reason="changed")))
    if bundle["inspectors"]:
        options.append(
            ("E_HASH_MISMATCH", lambda b: b["inspectors"][0].update(cert_valid_until="2099-12-31"))
        )
    options.append(
        (
            "E_HASH_MISMATCH",
            lambda b: b["inspectors"].append(
                {
                    "inspector_id": "\U0010ffff",
                    "unit": "",
                    "expertise": [],
                    "cert_valid_until": "2030-01-01",
                }
            ),
        )
    )
    options.append(
        (
            "E_HASH_MISMATCH",
            lambda b: b["conflicts"].append({"subject_id": "\U0010ffff", "inspector_id": "x"}),
        )
    )
    if isinstance(bundle["beacon_value"], str):
        options.append(
            (
                "E_BEACON",
                lambda b: b.update(
                    beacon_value=("0" if b["beacon_value"][0] != "0" else "1")
                    + b["beacon_value"][1:]
                ),
            )
        )
    else:
        options.append(
            (
                "E_BEACON",
                lambda b: b["beacon_value"][0].update(
                    secret=("0" if b["beacon_value"][0]["secret"][0] != "0" else "1")
                    + b["beacon_value"][0]["secret"][1:]
                ),
            )
        )
        options.append(("E_BEACON", lambda b: b["beacon_value"].pop()))
    return options


@PROPERTY
@given(draws(), st.data())
def test_any_single_change_is_rejected_with_its_code(d: Draw, data: st.DataObject) -> None:
    bundle = build(d)
    code, mutate = data.draw(st.sampled_from(_mutations(bundle)))
    mutate(bundle)
    assert outcome(bundle).get("error") == code


@PROPERTY
@given(draws(), st.data())
def test_shuffled_lists_are_rejected_not_resorted(d: Draw, data: st.DataObject) -> None:
    bundle = build(d)
    candidates = [
        k for k in ("manifest", "exclusions", "inspectors", "conflicts") if len(bundle[k]) >= 2
    ]
    if isinstance(bundle["beacon_value"], list):
        candidates.append("beacon_value")
    if not candidates:
        return
    key = data.draw(st.sampled_from(candidates))
    original = list(bundle[key])
    shuffled = data.draw(st.permutations(original).filter(lambda p: p != original))
    bundle[key] = shuffled
    assert outcome(bundle).get("error") == "E_UNSORTED"
