"""Step 2 of §11: every list strictly ascending by UTF-8 bytes, checked in the spec's order.

Lists are never repaired: a verifier that re-sorted or de-duplicated would accept a bundle
whose committed hash covers a different sequence (§11, last paragraph).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from .encoding import utf8
from .errors import ErrorCode, Rejected
from .model import Bundle, Commitment, CommitRevealBeacon, Conflict, Exclusion, Inspector, Subject

K = TypeVar("K", bytes, tuple[bytes, bytes])


def check_ascending(keys: Iterable[K], where: str, show: Sequence[str] | None = None) -> None:
    """Scan adjacent pairs from the start; the first non-ascending pair decides the code."""
    keys = list(keys)
    # Proved in C for the common case (sorted, no repeats); else the scan names the first pair.
    if keys == sorted(keys) and len(set(keys)) == len(keys):
        return
    previous: K | None = None
    for index, key in enumerate(keys):
        if previous is not None and key <= previous:
            label = f" ({show[index]!r})" if show is not None else ""
            if key == previous:
                raise Rejected(
                    ErrorCode.DUPLICATE,
                    f"{where}[{index}] repeats the key of the entry before{label}",
                )
            raise Rejected(
                ErrorCode.UNSORTED,
                f"{where}[{index}] sorts before the entry before it (UTF-8 byte order){label}",
            )
        previous = key


def check_order(bundle: Bundle) -> None:
    """Strata, beacon commitments, manifest, exclusions, inspectors, each inspector's
    expertise (in inspector order), conflicts, reveals — in this order (§11 step 2)."""
    check_commitment_order(bundle.commitment)
    check_list_order(bundle.manifest, bundle.exclusions, bundle.inspectors, bundle.conflicts)
    if isinstance(bundle.beacon_value, tuple):
        parties = [r.party_id for r in bundle.beacon_value]
        check_ascending([utf8(p) for p in parties], "beacon_value", parties)


def check_commitment_order(commitment: Commitment) -> None:
    """The two lists inside the commitment document: strata, then beacon commitments."""
    names = [rule.stratum for rule in commitment.strata]
    check_ascending([utf8(n) for n in names], "commitment.strata", names)
    if isinstance(commitment.beacon, CommitRevealBeacon):
        hexes = list(commitment.beacon.commitments)
        check_ascending([h.encode("ascii") for h in hexes], "commitment.beacon.commitments")


def check_list_order(
    manifest: Sequence[Subject],
    exclusions: Sequence[Exclusion],
    inspectors: Sequence[Inspector],
    conflicts: Sequence[Conflict],
) -> None:
    """The four committed lists and the inspectors' expertise, in the order of step 2."""
    ids = [s.subject_id for s in manifest]
    check_ascending([i.encode("utf-8") for i in ids], "manifest", ids)  # utf8(), inlined
    ids = [e.subject_id for e in exclusions]
    check_ascending([utf8(i) for i in ids], "exclusions", ids)
    ids = [i.inspector_id for i in inspectors]
    check_ascending([utf8(i) for i in ids], "inspectors", ids)
    for index, inspector in enumerate(inspectors):
        tags = list(inspector.expertise)
        check_ascending([utf8(t) for t in tags], f"inspectors[{index}].expertise", tags)
    pairs = [(utf8(c.subject_id), utf8(c.inspector_id)) for c in conflicts]
    check_ascending(pairs, "conflicts")
