"""Where a draw's randomness comes from (DRAW_SPEC §5), and when sampling accepts it.

- `commit-reveal` (§5.2) among the departments of a batch, offline or on the intranet: each
  party hands over `H("party", party_id, secret)` of a fresh 32-byte secret (`shuangsui draw
  party-secret` prints `{party_id, secret, commitment}`) before the commitment is published, and
  reveals the secret after. A reveal must open its own commitment; a party that did not commit
  cannot reveal; nobody reveals twice, before the document is published or after the deadline.
  A party that does not reveal makes the draw fail (published, never partly used). A party
  named by a department's unit code is that department's own secret: only its admin hands the
  reveal in (`hands_in`); any other party (a witness) is handed in by the lead's admin.
- `drand-quicknet` (§5.1): a future round, chosen at commit with a margin; a round is accepted
  only when checks (a)–(d) pass, the BLS signature included, whether a fetcher got it or an
  operator pushed it on an offline deployment. The checks are `shuangsui.drawspec.drand`'s
  (`drand-verify`, never hand-written pairing code).
- `fixed` (§5.3) only in test or dev mode; production refuses it.

Pure: values and instants in, the session after each step out. Refusals carry the spec's code
(`E_SCHEMA`, `E_DUPLICATE`, `E_BEACON`) where it defines one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shuangsui.drawspec import (
    CommitRevealBeacon,
    DrandBeacon,
    DrandValue,
    FixedBeacon,
    Rejected,
    Reveal,
    VerifierUnavailable,
)
from shuangsui.drawspec.beacon import party_commitment, reveal_randomness
from shuangsui.drawspec.drand import QUICKNET_CHAIN_HASH, BlsVerify, check_round, round_time
from shuangsui.drawspec.encoding import is_even_lower_hex, is_hex64
from shuangsui.sampling.domain.draws import DrawRuleError

MIN_PARTIES = 2
# §5.1: the round SHOULD come at least 10 minutes after the commitment is public.
DRAND_LEAD = timedelta(minutes=10)
# A round further ahead would leave the draw committed and waiting for no reason; it also keeps
# a chosen round within what a date can hold.
DRAND_HORIZON = timedelta(days=7)
PARTY_ID_MAX = 100


class BeaconRefused(DrawRuleError):
    """A beacon step was refused; `rule` is stable."""


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("beacon instants are aware datetimes")
    return at


# ---- fixed -----------------------------------------------------------------------------------


def fixed_beacon(value: str, *, test_mode: bool) -> FixedBeacon:
    """§5.3: production systems MUST NOT publish a draw with a fixed beacon."""
    if not test_mode:
        raise BeaconRefused(
            "draw-beacon-fixed",
            "a fixed beacon is for tests and development only; use commit-reveal or drand",
            "beacon.source",
        )
    if not is_hex64(value):
        raise BeaconRefused("E_SCHEMA", "a fixed value is 64 lowercase hex digits", "beacon.value")
    return FixedBeacon(value)


# ---- drand quicknet --------------------------------------------------------------------------


def round_at(instant: datetime) -> int:
    """The first quicknet round published strictly after `instant`."""
    seconds = int(_instant(instant).timestamp())
    # round_time(N) = genesis + 3(N-1) > seconds  ⇔  N > (seconds - genesis)/3 + 1
    return max(1, (seconds - round_time(1)) // 3 + 2)


def round_from(instant: datetime) -> int:
    """The first quicknet round published at `instant` or later."""
    seconds = math.ceil(_instant(instant).timestamp())
    return max(1, -((round_time(1) - seconds) // 3) + 1)


def drand_beacon(committed_at: datetime, *, lead: timedelta = DRAND_LEAD) -> DrandBeacon:
    """The beacon a commitment names at `committed_at`: the first round at least `lead` later,
    so nobody can know its randomness while the commitment is being published (§5.1, §14.1)."""
    return DrandBeacon(QUICKNET_CHAIN_HASH, round_from(_instant(committed_at) + lead))


def check_round_ahead(
    beacon: DrandBeacon, committed_at: datetime, *, lead: timedelta = DRAND_LEAD
) -> None:
    """Refuse a commitment whose round is due too soon: its randomness might already be known."""
    due = round_time(beacon.round)
    if due < int((_instant(committed_at) + lead).timestamp()):
        raise BeaconRefused(
            "draw-beacon-round-too-soon",
            f"round {beacon.round} is due at {_stamp(datetime.fromtimestamp(due, UTC))}, less "
            f"than {int(lead.total_seconds() // 60)} minutes after the commitment (§5.1)",
            "beacon.round",
        )


def check_round_horizon(
    beacon: DrandBeacon, committed_at: datetime, *, horizon: timedelta = DRAND_HORIZON
) -> None:
    """Refuse a round due more than `horizon` after the commitment."""
    if round_time(beacon.round) > int((_instant(committed_at) + horizon).timestamp()):
        raise BeaconRefused(
            "draw-beacon-round-too-late",
            f"round {beacon.round} is due more than {horizon.days} days after the commitment",
            "beacon.round",
        )


def round_due(beacon: DrandBeacon) -> datetime:
    return datetime.fromtimestamp(round_time(beacon.round), UTC)


def accept_round(
    beacon: DrandBeacon,
    randomness: str,
    signature: str,
    committed_at: str,
    *,
    bls_verify: BlsVerify | None = None,
) -> DrandValue:
    """The round's value once it passes §5.1's checks (a)–(d); the same code path for a
    fetched round and an operator's push. A malformed value is `E_SCHEMA`, a failed check
    `E_BEACON`; where the BLS check cannot run the round is not accepted either."""
    if not is_hex64(randomness):
        raise BeaconRefused(
            "E_SCHEMA", "randomness is 64 lowercase hex digits", "beacon_value.randomness"
        )
    if not is_even_lower_hex(signature):
        raise BeaconRefused(
            "E_SCHEMA",
            "signature is a non-empty even number of lowercase hex digits",
            "beacon_value.signature",
        )
    value = DrandValue(randomness, signature)
    try:
        check_round(beacon, value, committed_at, bls_verify)
    except Rejected as rejection:
        raise BeaconRefused(rejection.code.value, rejection.message, "beacon_value") from None
    except VerifierUnavailable as exc:
        raise BeaconRefused("draw-beacon-unverifiable", str(exc), "beacon_value") from None
    return value


@dataclass(frozen=True)
class OfferedRound:
    """A quicknet round as a relay or an operator hands it over, not checked yet."""

    round: int
    randomness: str
    signature: str


def accept_offered(
    beacon: DrandBeacon, offered: OfferedRound, committed_at: str, *,
    bls_verify: BlsVerify | None = None,
) -> DrandValue:  # fmt: skip
    """`accept_round` for a round handed over with its number, which must be the committed one
    (a genuine signature of another round is still the wrong round: `E_BEACON`)."""
    if offered.round != beacon.round:
        raise BeaconRefused(
            "E_BEACON", f"round {offered.round} is not the committed round {beacon.round}", "round"
        )
    return accept_round(
        beacon, offered.randomness, offered.signature, committed_at, bls_verify=bls_verify
    )


def drand_overdue(beacon: DrandBeacon, now: datetime, grace: timedelta) -> bool:
    """Whether the round is past its deadline unaccepted (the draw then fails as
    `beacon_unavailable`, and a new draw names a new round)."""
    return _instant(now) > round_due(beacon) + grace


# ---- commit-reveal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyCommitment:
    party_id: str
    commitment: str  # H("party", party_id, secret), hex


@dataclass(frozen=True)
class PartyReveal:
    party_id: str
    secret: str
    revealed_at: datetime


@dataclass(frozen=True)
class CommitReveal:
    """The commit-reveal exchange of one draw. Commitments are collected while the draw is
    prepared; `seal` fixes them when the commitment document is published and sets the reveal
    deadline; reveals follow until then. Every step returns the session after it."""

    commitments: tuple[PartyCommitment, ...] = ()
    reveals: tuple[PartyReveal, ...] = ()
    deadline: datetime | None = None  # None: not sealed yet, no reveal accepted

    @property
    def sealed(self) -> bool:
        return self.deadline is not None

    def _commitment_of(self, party_id: str) -> PartyCommitment | None:
        return next((c for c in self.commitments if c.party_id == party_id), None)

    def commit(self, party_id: str, commitment: str) -> CommitReveal:
        """A party hands over its commitment (never its secret) before the document exists."""
        if self.sealed:
            raise BeaconRefused(
                "draw-commitments-sealed",
                "the commitment document is published: no party can join any more",
                "party_id",
            )
        if not party_id or len(party_id) > PARTY_ID_MAX:
            raise BeaconRefused("E_SCHEMA", f"party_id is 1–{PARTY_ID_MAX} characters", "party_id")
        if not is_hex64(commitment):
            raise BeaconRefused(
                "E_SCHEMA",
                "a commitment is 64 lowercase hex digits (`shuangsui draw party-secret`)",
                "commitment",
            )
        if self._commitment_of(party_id) is not None:
            raise BeaconRefused(
                "draw-party-committed", f"party {party_id!r} has already committed", "party_id"
            )
        if any(c.commitment == commitment for c in self.commitments):
            raise BeaconRefused(
                "E_DUPLICATE",
                "this commitment was already handed over: a secret is never reused (§5.2)",
                "commitment",
            )
        return replace(self, commitments=(*self.commitments, PartyCommitment(party_id, commitment)))

    def beacon(self) -> CommitRevealBeacon:
        """The commitment's `beacon`: the set of commitments, ascending (§5.2)."""
        if len(self.commitments) < MIN_PARTIES:
            raise BeaconRefused(
                "E_SCHEMA",
                f"commit-reveal needs at least {MIN_PARTIES} parties' commitments, "
                f"{len(self.commitments)} handed over",
                "beacon.commitments",
            )
        return CommitRevealBeacon(tuple(sorted(c.commitment for c in self.commitments)))

    def seal(self, deadline: datetime, published: object | None = None) -> CommitReveal:
        """The document is published: reveals may come until `deadline`. `published` is the
        document's beacon, when given it must be exactly this exchange's commitments: a party
        checks its own commitment is in the document before revealing (§5.2)."""
        own = self.beacon()
        if self.sealed:
            raise BeaconRefused("draw-commitments-sealed", "the exchange is already sealed")
        if published is not None and published != own:
            raise BeaconRefused(
                "draw-commitments-mismatch",
                "the published document does not name exactly the parties' commitments",
                "beacon.commitments",
            )
        return replace(self, deadline=_instant(deadline))

    def reveal(self, party_id: str, secret: str, at: datetime) -> CommitReveal:
        """A party opens its commitment. Refused: before the document is published, after the
        deadline, by a party that did not commit, a second time, a malformed secret (`E_SCHEMA`)
        and a secret that does not open the party's own commitment (`E_BEACON`)."""
        at = _instant(at)
        if self.deadline is None:
            raise BeaconRefused(
                "draw-reveal-too-early",
                "the commitment is not published yet: a secret revealed now would be known "
                "before the draw is fixed (§14.1)",
                "secret",
            )
        own = self._commitment_of(party_id)
        if own is None:
            raise BeaconRefused(
                "draw-reveal-not-committed",
                f"party {party_id!r} handed over no commitment for this draw",
                "party_id",
            )
        if any(r.party_id == party_id for r in self.reveals):
            raise BeaconRefused(
                "draw-reveal-repeated", f"party {party_id!r} has already revealed", "party_id"
            )
        if at > self.deadline:
            raise BeaconRefused(
                "draw-reveal-late",
                f"the reveal deadline {_stamp(self.deadline)} has passed",
                "secret",
            )
        if not is_hex64(secret):
            raise BeaconRefused(
                "E_SCHEMA", "a secret is 64 lowercase hex digits (32 bytes)", "secret"
            )
        if party_commitment(party_id, bytes.fromhex(secret)).hex() != own.commitment:
            raise BeaconRefused(
                "E_BEACON",
                f"the secret does not open party {party_id!r}'s commitment",
                "secret",
            )
        return replace(self, reveals=(*self.reveals, PartyReveal(party_id, secret, at)))

    def missing(self) -> tuple[str, ...]:
        """Parties that committed and have not revealed, in the order they committed."""
        revealed = {r.party_id for r in self.reveals}
        return tuple(c.party_id for c in self.commitments if c.party_id not in revealed)

    @property
    def complete(self) -> bool:
        return self.sealed and not self.missing()

    def overdue(self, now: datetime) -> bool:
        """Past the deadline with a reveal missing: the draw has failed (§5.2)."""
        return self.deadline is not None and _instant(now) > self.deadline and not self.complete

    def beacon_value(self) -> tuple[Reveal, ...]:
        """The bundle's `beacon_value`: every reveal, ascending by `party_id` bytes (§5.2); only
        when all are in, since no partial result may be computed."""
        if not self.complete:
            raise BeaconRefused(
                "draw-reveal-missing",
                f"waiting for {', '.join(self.missing()) or 'the commitment to be published'}",
            )
        ordered = sorted(self.reveals, key=lambda r: r.party_id.encode("utf-8"))
        return tuple(Reveal(r.party_id, r.secret) for r in ordered)

    def randomness(self) -> bytes:
        """`R` (§5.2), for display; the published result recomputes it from the bundle."""
        return reveal_randomness(self.beacon_value())


def session(commitments: Iterable[tuple[str, str]]) -> CommitReveal:
    """A session from stored `(party_id, commitment)` pairs, in the order they were handed."""
    out = CommitReveal()
    for party_id, commitment in commitments:
        out = out.commit(party_id, commitment)
    return out


def hands_in(
    party_id: str, *, own_code: str | None, leads: bool, departments: Collection[str]
) -> bool:
    """Whether a caller may hand in `party_id`'s reveal (R20: a partner reveals only its own
    secret). A department reveals the party named by its unit code (`own_code`); a party named
    by the code of one of `departments` is bound to that department, and not even the lead
    reveals it for it. Any other party (a notary, a witness) has no account here: the lead's
    admin hands its reveal in."""
    if party_id == own_code:
        return True
    return leads and party_id not in departments
