"""The commitment document (DRAW_SPEC §4): its shape, its hash `C`, and building one."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from . import schema
from .beacon import beacon_json, read_beacon
from .encoding import digits_le
from .errors import schema_error
from .jsontext import JsonValue, canonical_json
from .model import Beacon, Commitment, Ratio, StratumRule, TeamRule

SPEC = "IDS-1"
MAX_TEAM_SIZE = 1000
COMMITMENT_KEYS = (
    "spec",
    "draw_id",
    "strata",
    "manifest_sha256",
    "exclusions_sha256",
    "inspectors_sha256",
    "conflicts_sha256",
    "team",
    "beacon",
    "committed_at",
)
# ASCII digits spelled out: `\d` would also match other scripts' digits.
_RATIO = re.compile(r"(0|[1-9][0-9]*)/([1-9][0-9]*)")


def read_commitment(value: JsonValue, path: str = "commitment") -> Commitment:
    """Step 1 for the commitment document: exactly the keys of §4.1, each well-formed."""
    doc = schema.obj(value, path, COMMITMENT_KEYS)
    if doc["spec"] != SPEC:
        raise schema_error(f"{path}.spec", f'must be "{SPEC}"')
    return Commitment(
        draw_id=schema.string(doc["draw_id"], f"{path}.draw_id", non_empty=True),
        strata=schema.items(doc["strata"], f"{path}.strata", read_stratum_rule),
        manifest_sha256=schema.hex64(doc["manifest_sha256"], f"{path}.manifest_sha256"),
        exclusions_sha256=schema.hex64(doc["exclusions_sha256"], f"{path}.exclusions_sha256"),
        inspectors_sha256=schema.hex64(doc["inspectors_sha256"], f"{path}.inspectors_sha256"),
        conflicts_sha256=schema.hex64(doc["conflicts_sha256"], f"{path}.conflicts_sha256"),
        team=read_team(doc["team"], f"{path}.team"),
        beacon=read_beacon(doc["beacon"], f"{path}.beacon"),
        committed_at=schema.timestamp(doc["committed_at"], f"{path}.committed_at"),
        document=doc,
    )


def read_stratum_rule(value: JsonValue, path: str) -> StratumRule:
    """A `strata` entry: a name and exactly one of `ratio` or `count`."""
    entry = schema.obj(value, path, ("stratum",), ("ratio", "count"))
    name = schema.string(entry["stratum"], f"{path}.stratum", non_empty=True)
    if ("ratio" in entry) == ("count" in entry):
        raise schema_error(path, "exactly one of 'ratio' and 'count' is required")
    if "count" in entry:
        return StratumRule(name, schema.integer(entry["count"], f"{path}.count", 0))
    return StratumRule(name, parse_ratio(entry["ratio"], f"{path}.ratio"))


def parse_ratio(value: JsonValue, path: str) -> Ratio:
    """`"a/b"` in canonical digits with `b >= 1` and `a <= b`; no bound on the digit count."""
    text = schema.string(value, path)
    m = _RATIO.fullmatch(text)
    if m is None:
        raise schema_error(path, f"ratio {text[:40]!r} is not of the form a/b in canonical digits")
    numerator, denominator = m[1], m[2]
    if not digits_le(numerator, denominator):
        raise schema_error(path, "ratio a/b requires a <= b")
    return Ratio(numerator, denominator)


def read_team(value: JsonValue, path: str) -> TeamRule | None:
    """`team`: null, or the phase-B rules (§4.1)."""
    if value is None:
        return None
    team = schema.obj(value, path, ("size", "lead_expertise", "scope", "task_date"))
    lead = team["lead_expertise"]
    scope: Literal["all", "same-unit"]
    if team["scope"] == "all":
        scope = "all"
    elif team["scope"] == "same-unit":
        scope = "same-unit"
    else:
        raise schema_error(f"{path}.scope", 'must be "all" or "same-unit"')
    return TeamRule(
        size=schema.integer(team["size"], f"{path}.size", 1, MAX_TEAM_SIZE),
        lead_expertise=None if lead is None else schema.tag(lead, f"{path}.lead_expertise"),
        scope=scope,
        task_date=schema.date(team["task_date"], f"{path}.task_date"),
    )


def commitment_hash(doc: dict[str, JsonValue]) -> bytes:
    """`C = SHA-256(JCS(doc))` (§4.2), as 32 raw bytes."""
    return hashlib.sha256(canonical_json(doc)).digest()


def build_document(
    *,
    draw_id: str,
    strata: list[StratumRule],
    list_hashes: dict[str, str],
    team: TeamRule | None,
    beacon: Beacon,
    committed_at: str,
) -> dict[str, JsonValue]:
    """Assemble a commitment document; the caller validates it with `read_commitment`.

    `list_hashes` maps `manifest`, `exclusions`, `inspectors` and `conflicts` to their hashes.
    """
    strata_json: list[JsonValue] = []
    for rule in strata:
        entry: dict[str, JsonValue] = {"stratum": rule.stratum}
        if isinstance(rule.rule, Ratio):
            entry["ratio"] = str(rule.rule)
        else:
            entry["count"] = rule.rule
        strata_json.append(entry)
    team_json: JsonValue = None
    if team is not None:
        team_json = {
            "size": team.size,
            "lead_expertise": team.lead_expertise,
            "scope": team.scope,
            "task_date": team.task_date,
        }
    doc: dict[str, JsonValue] = {
        "spec": SPEC,
        "draw_id": draw_id,
        "strata": strata_json,
        "team": team_json,
        "beacon": beacon_json(beacon),
        "committed_at": committed_at,
    }
    for name in ("manifest", "exclusions", "inspectors", "conflicts"):
        doc[f"{name}_sha256"] = list_hashes[name]
    return doc
