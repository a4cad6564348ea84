"""The verification procedure (DRAW_SPEC §11): steps 1–8, in order, first failure wins."""

from __future__ import annotations

from collections.abc import Sequence

from . import lists, schema
from .beacon import beacon_randomness, read_beacon_value
from .commitment import commitment_hash, read_commitment
from .drand import BlsVerify
from .errors import ErrorCode, Rejected, schema_error
from .jsontext import BomPrefixed, JsonValue, NotJson, first_defect, parse_json
from .model import Bundle, Exclusion, StratumRule, Subject
from .ordering import check_order
from .phase_a import result_hash, select_subjects
from .phase_b import assign_teams
from .recusal import Replacement, apply_recusals
from .result import result_object
from .seed import assignment_seed, draw_seed

BUNDLE_KEYS = ("commitment", "beacon_value", "manifest", "exclusions", "inspectors", "conflicts")


def read_bundle(tree: JsonValue) -> Bundle:
    """Step 1: the whole bundle conforms to §2–§5 and §10.1, else `E_SCHEMA`."""
    defect = first_defect(tree)
    if defect is not None:
        raise schema_error(*defect)
    top = schema.obj(tree, "", BUNDLE_KEYS, ("recusals",))
    commitment = read_commitment(top["commitment"])
    return Bundle(
        commitment=commitment,
        beacon_value=read_beacon_value(commitment.beacon, top["beacon_value"], "beacon_value"),
        manifest=lists.read_subjects(top["manifest"], "manifest"),
        exclusions=schema.items(top["exclusions"], "exclusions", lists.read_exclusion),
        inspectors=schema.items(top["inspectors"], "inspectors", lists.read_inspector),
        conflicts=lists.read_conflicts(top["conflicts"], "conflicts"),
        recusals=schema.items(top.get("recusals", []), "recusals", lists.read_recusal),
    )


def check_list_hashes(bundle: Bundle) -> None:
    """Step 3: the committed list hashes, in the order manifest, exclusions, inspectors,
    conflicts; the message names the field (§11)."""
    c = bundle.commitment
    checks = (
        ("manifest_sha256", c.manifest_sha256, lists.manifest_hash(bundle.manifest)),
        ("exclusions_sha256", c.exclusions_sha256, lists.exclusions_hash(bundle.exclusions)),
        ("inspectors_sha256", c.inspectors_sha256, lists.inspectors_hash(bundle.inspectors)),
        ("conflicts_sha256", c.conflicts_sha256, lists.conflicts_hash(bundle.conflicts)),
    )
    for name, committed, computed in checks:
        if committed != computed:
            raise Rejected(
                ErrorCode.HASH_MISMATCH,
                f"{name} mismatch: committed {committed}, computed {computed}",
            )


def check_exclusions(manifest: Sequence[Subject], exclusions: Sequence[Exclusion]) -> None:
    """Step 4: no excluded subject is in the manifest (§3.2)."""
    excluded = {e.subject_id for e in exclusions}
    for index, subject in enumerate(manifest):
        if subject.subject_id in excluded:
            raise Rejected(
                ErrorCode.EXCLUDED_PRESENT,
                f"manifest[{index}]: excluded subject {subject.subject_id!r} is in the manifest",
            )


def check_strata_named(strata: Sequence[StratumRule], manifest: Sequence[Subject]) -> None:
    """Step 5: every manifest stratum is named in the document (§7.1)."""
    named = {rule.stratum for rule in strata}
    for index, subject in enumerate(manifest):
        if subject.stratum not in named:
            raise Rejected(
                ErrorCode.UNKNOWN_STRATUM,
                f"manifest[{index}].stratum {subject.stratum!r} is not named in commitment.strata",
            )


def verify_bundle(bundle: Bundle, *, bls_verify: BlsVerify | None = None) -> dict[str, JsonValue]:
    """Steps 2–8 on a bundle that passed step 1; returns the result object (§10.2).

    Raises `Rejected` for an invalid bundle and `VerifierUnavailable` when a drand bundle
    cannot be checked because the optional `drand` extra is missing.
    """
    check_order(bundle)
    check_list_hashes(bundle)
    c = bundle.commitment
    check_exclusions(bundle.manifest, bundle.exclusions)
    check_strata_named(c.strata, bundle.manifest)
    randomness = beacon_randomness(c.beacon, bundle.beacon_value, c.committed_at, bls_verify)
    c_raw = commitment_hash(c.document)
    seed = draw_seed(c_raw, randomness)
    selections = select_subjects(seed, c.strata, bundle.manifest)
    result_raw = result_hash(selections)
    if c.team is None:
        if bundle.recusals:
            raise Rejected(ErrorCode.RECUSAL, "recusals given for a draw without a team phase")
        return result_object(c_raw, seed, selections, result_raw, None, None, [])
    seed_b = assignment_seed(seed, result_raw)
    units = {s.subject_id: s for s in bundle.manifest}
    selected = [units[i] for s in selections for i in s.selected]
    teams = assign_teams(seed_b, selected, bundle.inspectors, bundle.conflicts, c.team)
    replacements: list[Replacement] = apply_recusals(teams, bundle.recusals)
    return result_object(c_raw, seed, selections, result_raw, seed_b, teams, replacements)


def verify_tree(tree: JsonValue, *, bls_verify: BlsVerify | None = None) -> dict[str, JsonValue]:
    """Steps 1–8 on a parsed JSON value (e.g. the `bundle` of a vector file)."""
    return verify_bundle(read_bundle(tree), bls_verify=bls_verify)


def verify_bytes(data: bytes, *, bls_verify: BlsVerify | None = None) -> dict[str, JsonValue]:
    """Steps 1–8 on the bundle bytes (§2.10: UTF-8, no BOM, one JSON object)."""
    try:
        tree = parse_json(data)
    except (NotJson, BomPrefixed) as exc:
        raise schema_error("", str(exc)) from exc
    return verify_tree(tree, bls_verify=bls_verify)


def outcome(tree: JsonValue, *, bls_verify: BlsVerify | None = None) -> dict[str, JsonValue]:
    """The result object, or the rejection object (§10.3) if the bundle is invalid."""
    try:
        return verify_tree(tree, bls_verify=bls_verify)
    except Rejected as rejection:
        return dict(rejection.to_json())
