"""Building commitments and bundles for operators, so nobody writes IDS-1 JSON by hand.

The builder validates with the verifier's own checks (steps 1–5 of §11) and refuses what a
verifier would reject. It never re-sorts the committed lists: the operator publishes exactly
the lists that were hashed, so a wrong order must be fixed at the source.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from . import lists, schema
from .beacon import beacon_value_json, party_commitment
from .commitment import build_document, read_commitment
from .jsontext import JsonValue
from .model import (
    Beacon,
    BeaconValue,
    Conflict,
    Exclusion,
    Inspector,
    Recusal,
    StratumRule,
    Subject,
    TeamRule,
)
from .ordering import check_commitment_order, check_list_order
from .verification import check_exclusions, check_strata_named, read_bundle


@dataclass(frozen=True, slots=True)
class DrawInputs:
    """The four committed lists (§3), validated and in the order they will be published."""

    manifest: tuple[Subject, ...]
    exclusions: tuple[Exclusion, ...] = ()
    inspectors: tuple[Inspector, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    @classmethod
    def from_json(
        cls,
        manifest: JsonValue,
        exclusions: JsonValue = None,
        inspectors: JsonValue = None,
        conflicts: JsonValue = None,
    ) -> DrawInputs:
        """Read JSON arrays (None means an empty list); raises `Rejected` like step 1–2."""
        inputs = cls(
            manifest=lists.read_subjects(manifest, "manifest"),
            exclusions=schema.items(exclusions or [], "exclusions", lists.read_exclusion),
            inspectors=schema.items(inspectors or [], "inspectors", lists.read_inspector),
            conflicts=lists.read_conflicts(conflicts or [], "conflicts"),
        )
        check_list_order(inputs.manifest, inputs.exclusions, inputs.inspectors, inputs.conflicts)
        check_exclusions(inputs.manifest, inputs.exclusions)
        return inputs

    def hashes(self) -> dict[str, str]:
        """The four list hashes of §3, keyed by list name."""
        return {
            "manifest": lists.manifest_hash(self.manifest),
            "exclusions": lists.exclusions_hash(self.exclusions),
            "inspectors": lists.inspectors_hash(self.inspectors),
            "conflicts": lists.conflicts_hash(self.conflicts),
        }

    def to_json(self) -> dict[str, JsonValue]:
        """The lists as bundle members (manifest entries written with explicit unit/weight)."""
        return {
            "manifest": [lists.subject_json(s) for s in self.manifest],
            "exclusions": [lists.exclusion_json(e) for e in self.exclusions],
            "inspectors": [lists.inspector_json(i) for i in self.inspectors],
            "conflicts": [lists.conflict_json(c) for c in self.conflicts],
        }


def build_commitment(
    inputs: DrawInputs,
    *,
    draw_id: str,
    strata: Sequence[StratumRule],
    team: TeamRule | None,
    beacon: Beacon,
    committed_at: str,
) -> dict[str, JsonValue]:
    """A commitment document over `inputs` (§4), checked as a verifier would check it.

    `strata` must already be in UTF-8 byte order of their names; raises `Rejected`.
    """
    doc = build_document(
        draw_id=draw_id,
        strata=list(strata),
        list_hashes=inputs.hashes(),
        team=team,
        beacon=beacon,
        committed_at=committed_at,
    )
    commitment = read_commitment(doc)
    check_commitment_order(commitment)
    check_strata_named(commitment.strata, inputs.manifest)
    return doc


def build_bundle(
    commitment: dict[str, JsonValue],
    beacon_value: BeaconValue,
    inputs: DrawInputs,
    recusals: Sequence[Recusal] = (),
) -> dict[str, JsonValue]:
    """The bundle of §10.1; raises `Rejected` if it fails step 1 or 2.

    Later checks (hashes, beacon) are the verifier's job: run `verify_tree` on the result.
    """
    bundle = bundle_tree(commitment, beacon_value, inputs, recusals)
    read_bundle(bundle)
    return bundle


def bundle_tree(
    commitment: dict[str, JsonValue],
    beacon_value: BeaconValue,
    inputs: DrawInputs,
    recusals: Sequence[Recusal] = (),
) -> dict[str, JsonValue]:
    """The bundle of §10.1 as `build_bundle` writes it, unchecked: for a caller that runs
    `verify_tree` on it next, whose step 1 is the same check (the same `Rejected`)."""
    bundle: dict[str, JsonValue] = {
        "commitment": commitment,
        "beacon_value": beacon_value_json(beacon_value),
        **inputs.to_json(),
    }
    if recusals:
        bundle["recusals"] = [lists.recusal_json(r) for r in recusals]
    return bundle


@dataclass(frozen=True, slots=True)
class PartySecret:
    """A commit-reveal party's secret and the commitment it hands over (§5.2)."""

    party_id: str
    secret: str
    commitment: str


def new_party_secret(party_id: str) -> PartySecret:
    """A fresh 32-byte secret from the OS CSPRNG; never reuse one across draws (§5.2)."""
    schema.string(party_id, "party_id", non_empty=True)
    secret = secrets.token_bytes(32)
    return PartySecret(party_id, secret.hex(), party_commitment(party_id, secret).hex())
