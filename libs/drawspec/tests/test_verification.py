"""Steps 3–8 of §11 and their order: hashes, exclusions, strata, beacon, recusals."""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import pytest

from shuangsui.drawspec import ErrorCode, Rejected, VerifierUnavailable, outcome
from shuangsui.drawspec.verification import verify_tree


def _code(bundle: dict[str, Any], **kwargs: Any) -> str:
    return str(outcome(bundle, **kwargs).get("error", "accepted"))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda b: b["manifest"][0].update(unit="SCJGS-09"), "manifest_sha256"),
        (lambda b: b["manifest"][0].update(weight=2), "manifest_sha256"),
        (lambda b: b["manifest"].pop(), "manifest_sha256"),
        (lambda b: b["exclusions"][0].update(reason="OTHER"), "exclusions_sha256"),
        (lambda b: b["exclusions"].clear(), "exclusions_sha256"),
        (
            lambda b: b["inspectors"].append(
                {"inspector_id": "I", "unit": "", "expertise": [], "cert_valid_until": "2030-01-01"}
            ),
            "inspectors_sha256",
        ),
        (
            lambda b: b["conflicts"].append({"subject_id": "x", "inspector_id": "y"}),
            "conflicts_sha256",
        ),
    ],
)
def test_changed_list_is_a_hash_mismatch_naming_the_field(kit, edit, field: str) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    edit(bundle)
    result = outcome(bundle)
    assert result["error"] == "E_HASH_MISMATCH"
    assert str(result["message"]).startswith(f"{field} mismatch: committed ")


def test_omitted_defaults_hash_like_explicit_ones(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV2-weighted")
    for entry in bundle["manifest"]:
        entry.setdefault("unit", "")
        entry.setdefault("weight", 1)
    assert "error" not in outcome(bundle)


def test_hashes_are_checked_in_list_order(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["conflicts"].pop()
    bundle["inspectors"][0]["unit"] = "U9"
    assert "inspectors_sha256" in str(outcome(bundle)["message"])


def test_excluded_subject_in_manifest_is_rejected(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["manifest"].insert(17, {"subject_id": "C-03", "stratum": "C", "unit": "SCJGS-02"})
    assert _code(kit.rehash(bundle)) == "E_EXCLUDED_PRESENT"


def test_unknown_stratum_is_rejected_after_exclusions(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["manifest"].append({"subject_id": "D-01", "stratum": "D"})
    assert _code(kit.rehash(bundle)) == "E_UNKNOWN_STRATUM"
    bundle["manifest"].insert(17, {"subject_id": "C-03", "stratum": "C"})
    assert _code(kit.rehash(bundle)) == "E_EXCLUDED_PRESENT"


def test_unknown_stratum_wins_over_beacon_failure(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["manifest"].append({"subject_id": "D-01", "stratum": "D"})
    bundle["beacon_value"] = "0" * 64
    assert _code(kit.rehash(bundle)) == "E_UNKNOWN_STRATUM"


def test_named_stratum_without_entries_has_no_sample(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["commitment"]["strata"].append({"stratum": "D", "count": 5})
    d = outcome(bundle)["strata"][3]
    assert (d["population"], d["sample_size"], d["selected"]) == (0, 0, [])
    assert (d["cutoff_key"], d["next_key"]) == (None, None)


def test_fixed_beacon_value_must_equal_the_committed_value(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["beacon_value"] = "0" * 64
    assert _code(bundle) == "E_BEACON"


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b["beacon_value"][0].update(secret="0" * 64),  # opens no commitment
        lambda b: b["beacon_value"].pop(),  # missing reveal
        lambda b: b["beacon_value"].clear(),  # nobody revealed
        lambda b: b["beacon_value"][0].update(party_id="公证处X"),  # wrong party for the secret
        lambda b: b["beacon_value"].append({"party_id": "associate", "secret": "1" * 64}),
    ],
)
def test_reveals_must_open_exactly_the_commitments(kit, edit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV4-commit-reveal-chinese")
    edit(bundle)
    bundle["beacon_value"].sort(key=lambda r: r["party_id"].encode())
    assert _code(bundle) == "E_BEACON"


def _tv6(kit) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return kit.bundle_of("TV6-drand-real-round")


def _never_called(round_number: int, signature: str) -> str:
    raise AssertionError("the BLS check must not be needed for this bundle")


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b["commitment"]["beacon"].update(chain_hash="0" * 64),
        lambda b: b["commitment"].update(committed_at="2023-09-15T11:00:03Z"),  # equal time
        lambda b: b["commitment"].update(committed_at="2024-01-01T00:00:00Z"),
        lambda b: b["beacon_value"].update(randomness="0" * 64),
        lambda b: b["beacon_value"].update(
            signature="ab" * 47, randomness=hashlib.sha256(bytes.fromhex("ab" * 47)).hexdigest()
        ),
    ],
)
def test_drand_relations_are_beacon_errors(kit, edit) -> None:  # type: ignore[no-untyped-def]
    bundle = _tv6(kit)
    edit(bundle)
    assert _code(bundle, bls_verify=_never_called) == "E_BEACON"


def test_drand_round_one_second_after_commit_passes_check_b(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = _tv6(kit)
    bundle["commitment"]["committed_at"] = "2023-09-15T11:00:02Z"
    randomness = bundle["beacon_value"]["randomness"]
    calls: list[tuple[int, str]] = []

    def fake(round_number: int, signature: str) -> str:
        calls.append((round_number, signature))
        return str(randomness)

    assert _code(bundle, bls_verify=fake) == "accepted"
    assert calls == [(657413, bundle["beacon_value"]["signature"])]


class _Panic(BaseException):
    """Stands in for pyo3's PanicException, which is not an Exception subclass."""


@pytest.mark.parametrize(
    "failure",
    [ValueError("Verification Failed"), RuntimeError("boom"), _Panic("unwrap on Err")],
)
def test_any_exception_from_the_bls_library_is_a_beacon_error(kit, failure) -> None:  # type: ignore[no-untyped-def]
    def failing(round_number: int, signature: str) -> str:
        raise failure

    assert _code(_tv6(kit), bls_verify=failing) == "E_BEACON"


def test_bls_library_disagreeing_on_randomness_is_a_beacon_error(kit) -> None:  # type: ignore[no-untyped-def]
    assert _code(_tv6(kit), bls_verify=lambda r, s: "0" * 64) == "E_BEACON"


def test_missing_drand_extra_is_an_error_not_a_verdict(kit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "drand_verify", None)
    with pytest.raises(VerifierUnavailable, match="drand-verify"):
        verify_tree(_tv6(kit))


def test_wrong_drand_bundle_is_rejected_even_without_the_extra(kit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "drand_verify", None)
    bundle = _tv6(kit)
    bundle["beacon_value"]["randomness"] = "0" * 64
    assert _code(bundle) == "E_BEACON"


def test_recusals_without_team_phase_are_rejected(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV1-basic-strata")
    bundle["recusals"] = [{"subject_id": "A-06", "inspector_id": "I-01"}]
    assert _code(bundle) == "E_RECUSAL"
    bundle["recusals"] = []
    assert _code(bundle) == "accepted"


def test_beacon_failure_wins_over_recusal_failure(kit) -> None:  # type: ignore[no-untyped-def]
    bundle = kit.bundle_of("TV3-teams")
    bundle["recusals"][0]["inspector_id"] = "I-01"
    assert _code(bundle) == "E_RECUSAL"
    bundle["beacon_value"] = "0" * 64
    assert _code(bundle) == "E_BEACON"


def test_rejection_carries_code_and_message() -> None:
    rejection = Rejected(ErrorCode.BEACON, "why")
    assert rejection.to_json() == {"error": "E_BEACON", "message": "why"}
