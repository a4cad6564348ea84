"""The beacon (DRAW_SPEC §5): shapes (step 1), relations (step 6) and the randomness `R`.

§5.4 splits the work: everything about the *form* of `beacon` and `beacon_value` is
`E_SCHEMA` and is read here in step 1; only relations between well-formed values are
`E_BEACON`, checked by `beacon_randomness` in step 6.
"""

from __future__ import annotations

from collections.abc import Callable

from . import drand, schema
from .encoding import is_even_lower_hex, tagged_hash, utf8
from .errors import ErrorCode, Rejected, schema_error
from .jsontext import JsonValue
from .model import (
    Beacon,
    BeaconValue,
    CommitRevealBeacon,
    DrandBeacon,
    DrandValue,
    FixedBeacon,
    Reveal,
)

SOURCES = ("drand-quicknet", "commit-reveal", "fixed")
MIN_PARTIES = 2


def read_beacon(value: JsonValue, path: str) -> Beacon:
    """The commitment's `beacon` object, by source."""
    if not isinstance(value, dict):
        raise schema_error(path, f"expected an object, found {schema.describe(value)}")
    source = value.get("source")
    if source == "fixed":
        entry = schema.obj(value, path, ("source", "value"))
        return FixedBeacon(schema.hex64(entry["value"], f"{path}.value"))
    if source == "drand-quicknet":
        entry = schema.obj(value, path, ("source", "chain_hash", "round"))
        return DrandBeacon(
            chain_hash=schema.hex64(entry["chain_hash"], f"{path}.chain_hash"),
            round=schema.integer(entry["round"], f"{path}.round", 1),
        )
    if source == "commit-reveal":
        entry = schema.obj(value, path, ("source", "commitments"))
        commitments = schema.items(entry["commitments"], f"{path}.commitments", schema.hex64)
        if len(commitments) < MIN_PARTIES:
            raise schema_error(f"{path}.commitments", "at least 2 commitments are required")
        return CommitRevealBeacon(commitments)
    raise schema_error(f"{path}.source", f"must be one of {', '.join(SOURCES)}")


def read_beacon_value(beacon: Beacon, value: JsonValue, path: str) -> BeaconValue:
    """The bundle's `beacon_value`, whose JSON type depends on the committed source."""
    if isinstance(beacon, FixedBeacon):
        return schema.hex64(value, path)
    if isinstance(beacon, DrandBeacon):
        entry = schema.obj(value, path, ("randomness", "signature"))
        signature = schema.string(entry["signature"], f"{path}.signature")
        if not is_even_lower_hex(signature):
            raise schema_error(
                f"{path}.signature", "expected a non-empty even number of lowercase hex digits"
            )
        return DrandValue(schema.hex64(entry["randomness"], f"{path}.randomness"), signature)
    return schema.items(value, path, _read_reveal)


def _read_reveal(value: JsonValue, path: str) -> Reveal:
    entry = schema.obj(value, path, ("party_id", "secret"))
    return Reveal(
        party_id=schema.string(entry["party_id"], f"{path}.party_id", non_empty=True),
        secret=schema.hex64(entry["secret"], f"{path}.secret"),
    )


def beacon_json(beacon: Beacon) -> dict[str, JsonValue]:
    """The JSON form of a beacon, for building commitment documents."""
    if isinstance(beacon, FixedBeacon):
        return {"source": beacon.source, "value": beacon.value}
    if isinstance(beacon, DrandBeacon):
        return {"source": beacon.source, "chain_hash": beacon.chain_hash, "round": beacon.round}
    return {"source": beacon.source, "commitments": list(beacon.commitments)}


def beacon_value_json(value: BeaconValue) -> JsonValue:
    """The JSON form of a beacon value, for building bundles."""
    if isinstance(value, str):
        return value
    if isinstance(value, DrandValue):
        return {"randomness": value.randomness, "signature": value.signature}
    return [{"party_id": r.party_id, "secret": r.secret} for r in value]


def party_commitment(party_id: str, secret: bytes) -> bytes:
    """`H("party", party_id, secret)`: what a party hands over before the document (§5.2)."""
    return tagged_hash("party", utf8(party_id), secret)


def reveal_randomness(reveals: tuple[Reveal, ...]) -> bytes:
    """`R = H("reveal", party_id_1, secret_1, ...)` over reveals in `party_id` order (§5.2)."""
    fields: list[bytes] = []
    for reveal in reveals:
        fields += [utf8(reveal.party_id), bytes.fromhex(reveal.secret)]
    return tagged_hash("reveal", *fields)


def beacon_randomness(
    beacon: Beacon,
    value: BeaconValue,
    committed_at: str,
    bls_verify: Callable[[int, str], str] | None = None,
) -> bytes:
    """Step 6: check the beacon relations and return the 32 bytes `R`.

    `bls_verify` replaces the drand-verify call for check (d) of §5.1 (tests only).
    """
    if isinstance(beacon, FixedBeacon):
        assert isinstance(value, str)
        if value != beacon.value:
            raise Rejected(ErrorCode.BEACON, "beacon_value differs from the fixed beacon value")
        return bytes.fromhex(value)
    if isinstance(beacon, DrandBeacon):
        assert isinstance(value, DrandValue)
        drand.check_round(beacon, value, committed_at, bls_verify)
        return bytes.fromhex(value.randomness)
    assert isinstance(value, tuple)
    _check_reveals(beacon, value)
    return reveal_randomness(value)


def _check_reveals(beacon: CommitRevealBeacon, reveals: tuple[Reveal, ...]) -> None:
    opened: set[str] = set()
    for reveal in reveals:
        digest = party_commitment(reveal.party_id, bytes.fromhex(reveal.secret)).hex()
        if digest not in beacon.commitments:
            raise Rejected(
                ErrorCode.BEACON,
                f"beacon_value: the reveal of party {reveal.party_id!r} opens no commitment",
            )
        opened.add(digest)
    missing = [c for c in beacon.commitments if c not in opened]
    if missing:
        raise Rejected(
            ErrorCode.BEACON,
            f"beacon.commitments: {len(missing)} commitment(s) not opened by any reveal "
            f"(first {missing[0][:16]}…); a draw with a missing reveal has failed (§5.2)",
        )
