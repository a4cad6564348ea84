"""Phase A, subject selection (DRAW_SPEC §7): sample sizes, ticket keys, selection, result hash."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .encoding import StreamHash, dec, lp, parse_digits, tag_prefix, u32be, utf8
from .errors import ErrorCode, Rejected
from .model import Ratio, StratumRule, Subject

_INDEX_LENGTH = u32be(4)
# `u32be(4) || u32be(j)`, the last field of ticket j, for every weight §3.1 allows.
_MAX_WEIGHT = 1000
_INDEX_FIELDS = tuple(_INDEX_LENGTH + u32be(j) for j in range(_MAX_WEIGHT))


@dataclass(frozen=True, slots=True)
class StratumSelection:
    """The outcome for one stratum, in the terms of the result object (§10.2)."""

    stratum: str
    population: int
    sample_size: int
    selected: tuple[str, ...]
    cutoff_key: str | None
    next_key: str | None


def sample_size(population: int, rule: Ratio | int) -> int:
    """`n_s` of §7.1: `min(N, ceil(N·a/b))` in exact integers, or `min(N, k)`."""
    if isinstance(rule, Ratio):
        a, b = parse_digits(rule.numerator), parse_digits(rule.denominator)
        return min(population, (population * a + b - 1) // b)
    return min(population, rule)


class TicketHasher:
    """`key(x, w)` of §7.2 for one seed; the constant prefix is hashed once per draw."""

    def __init__(self, seed: bytes) -> None:
        self._base = hashlib.sha256(tag_prefix("ticket") + lp(seed))

    def key(self, subject_id: str, weight: int) -> bytes:
        """The minimum of the subject's `weight` ticket hashes (unsigned byte order)."""
        per_subject = self._base.copy()
        per_subject.update(lp(utf8(subject_id)))
        best: bytes | None = None
        for j in range(weight):
            h = per_subject.copy()
            h.update(_INDEX_LENGTH + u32be(j))
            digest = h.digest()
            if best is None or digest < best:
                best = digest
        assert best is not None, "weights are at least 1"
        return best


def first_ranked(
    seed: bytes, entries: Iterable[tuple[str, int]], count: int
) -> list[tuple[bytes, bytes, str]]:
    """The first `count` entries of `ranked` over `(subject_id, weight)` pairs, in order.

    A fast path for large strata, equal to `ranked(seed, subjects)[:count]` (the tests check
    this on generated inputs): the same ticket messages of §7.2, with the constant prefix and
    each subject's `LP(utf8(id))` hashed once and the index fields precomputed, and only the
    `count` smallest `(key, id bytes, id)` kept instead of a full sort.
    """
    base = hashlib.sha256(tag_prefix("ticket") + lp(seed))
    copy = base.copy
    first_index = _INDEX_FIELDS[0]
    reference = TicketHasher(seed)
    keyed: list[tuple[bytes, bytes, str]] = []
    append = keyed.append
    for subject_id, weight in entries:
        # utf8() and u32be() inlined: this loop runs once per entry of the stratum.
        id_bytes = subject_id.encode("utf-8")
        h = copy()
        if weight == 1:
            h.update(len(id_bytes).to_bytes(4, "big") + id_bytes + first_index)
            append((h.digest(), id_bytes, subject_id))
        elif 1 < weight <= _MAX_WEIGHT:
            h.update(len(id_bytes).to_bytes(4, "big") + id_bytes)
            best = b"\xff" * 33  # above every 32-byte digest
            for index in _INDEX_FIELDS[:weight]:
                ticket = h.copy()
                ticket.update(index)
                digest = ticket.digest()
                if digest < best:
                    best = digest
            append((best, id_bytes, subject_id))
        else:
            append((reference.key(subject_id, weight), id_bytes, subject_id))
    return heapq.nsmallest(count, keyed)


def select_entries(
    seed: bytes, rule: StratumRule, entries: Sequence[tuple[str, int]]
) -> StratumSelection:
    """`select_stratum` for the stratum's `(subject_id, weight)` pairs, via `first_ranked`."""
    n = sample_size(len(entries), rule.rule)
    order = first_ranked(seed, entries, n + 1)
    return StratumSelection(
        stratum=rule.stratum,
        population=len(entries),
        sample_size=n,
        selected=tuple(subject_id for _, _, subject_id in order[:n]),
        cutoff_key=order[n - 1][0].hex() if n > 0 else None,
        next_key=order[n][0].hex() if n < len(entries) else None,
    )


def ranked(seed: bytes, subjects: Iterable[Subject]) -> list[tuple[bytes, bytes, str]]:
    """Entries ordered by `(key, utf8(subject_id))` (§7.3), as `(key, id bytes, id)`."""
    tickets = TicketHasher(seed)
    order = [
        (tickets.key(s.subject_id, s.weight), utf8(s.subject_id), s.subject_id) for s in subjects
    ]
    order.sort()
    return order


def select_stratum(seed: bytes, rule: StratumRule, members: Sequence[Subject]) -> StratumSelection:
    """Select the first `n_s` entries of the ranking, with cutoff and next keys."""
    order = ranked(seed, members)
    n = sample_size(len(order), rule.rule)
    return StratumSelection(
        stratum=rule.stratum,
        population=len(order),
        sample_size=n,
        selected=tuple(subject_id for _, _, subject_id in order[:n]),
        cutoff_key=order[n - 1][0].hex() if n > 0 else None,
        next_key=order[n][0].hex() if n < len(order) else None,
    )


def select_subjects(
    seed: bytes, strata: Sequence[StratumRule], manifest: Sequence[Subject]
) -> tuple[StratumSelection, ...]:
    """Phase A over every stratum of the document, in document order."""
    by_stratum: dict[str, list[tuple[str, int]]] = {rule.stratum: [] for rule in strata}
    for subject in manifest:
        members = by_stratum.get(subject.stratum)
        if members is None:
            raise Rejected(
                ErrorCode.UNKNOWN_STRATUM,
                f"manifest: subject {subject.subject_id!r} has stratum {subject.stratum!r}, "
                "which the commitment does not name",
            )
        members.append((subject.subject_id, subject.weight))
    # `select_entries` is `select_stratum` without the full sort (the tests check they agree).
    return tuple(select_entries(seed, rule, by_stratum[rule.stratum]) for rule in strata)


def result_hash(selections: Iterable[StratumSelection]) -> bytes:
    """`result_sha256` (§7.4): per stratum its name, `dec(n_s)` and the selected ids."""
    h = StreamHash("result")
    h.add_text_rows((s.stratum, dec(s.sample_size), *s.selected) for s in selections)
    return h.digest()
