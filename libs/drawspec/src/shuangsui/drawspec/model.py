"""Validated IDS-1 inputs: what step 1 of §11 turns a JSON bundle into.

Every object here has passed the shape checks of §2–§5 and §10.1; ordering (step 2) and all
later checks are done on these objects, never on raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .jsontext import JsonValue


@dataclass(frozen=True, slots=True)
class Subject:
    """A manifest entry (§3.1) with the defaults for `unit` and `weight` applied."""

    subject_id: str
    stratum: str
    unit: str = ""
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A subject removed before the manifest was built (§3.2)."""

    subject_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Inspector:
    """An inspector manifest entry (§3.3); `expertise` as given (sortedness checked in step 2)."""

    inspector_id: str
    unit: str
    expertise: tuple[str, ...]
    cert_valid_until: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A known conflict of interest (§3.4)."""

    subject_id: str
    inspector_id: str


@dataclass(frozen=True, slots=True)
class Recusal:
    """A removal after the draw (§9); `reason` never affects the computation."""

    subject_id: str
    inspector_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ratio:
    """`a/b` as the canonical digit strings of the document (§4.1); no size bound."""

    numerator: str
    denominator: str

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class StratumRule:
    """One entry of the commitment's `strata`: exactly one of a ratio or a count."""

    stratum: str
    rule: Ratio | int


@dataclass(frozen=True, slots=True)
class TeamRule:
    """The commitment's `team` object (§4.1, §8)."""

    size: int
    lead_expertise: str | None
    scope: Literal["all", "same-unit"]
    task_date: str


@dataclass(frozen=True, slots=True)
class FixedBeacon:
    """§5.3, tests only."""

    value: str
    source: Literal["fixed"] = "fixed"


@dataclass(frozen=True, slots=True)
class DrandBeacon:
    """§5.1: a future drand quicknet round."""

    chain_hash: str
    round: int
    source: Literal["drand-quicknet"] = "drand-quicknet"


@dataclass(frozen=True, slots=True)
class CommitRevealBeacon:
    """§5.2: the parties' commitments, as hex, in document order."""

    commitments: tuple[str, ...]
    source: Literal["commit-reveal"] = "commit-reveal"


Beacon = FixedBeacon | DrandBeacon | CommitRevealBeacon


@dataclass(frozen=True, slots=True)
class DrandValue:
    """The published drand round (§5.1)."""

    randomness: str
    signature: str


@dataclass(frozen=True, slots=True)
class Reveal:
    """One party's opening of its commitment (§5.2)."""

    party_id: str
    secret: str


BeaconValue = str | DrandValue | tuple[Reveal, ...]


@dataclass(frozen=True, slots=True)
class Commitment:
    """The commitment document (§4); `document` is the JSON value that `C` is computed over."""

    draw_id: str
    strata: tuple[StratumRule, ...]
    manifest_sha256: str
    exclusions_sha256: str
    inspectors_sha256: str
    conflicts_sha256: str
    team: TeamRule | None
    beacon: Beacon
    committed_at: str
    document: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything a third party needs to recompute a draw (§10.1)."""

    commitment: Commitment
    beacon_value: BeaconValue
    manifest: tuple[Subject, ...]
    exclusions: tuple[Exclusion, ...]
    inspectors: tuple[Inspector, ...]
    conflicts: tuple[Conflict, ...]
    recusals: tuple[Recusal, ...] = ()
