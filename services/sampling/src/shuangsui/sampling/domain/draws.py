"""A draw's life (DOMAIN §3.3, §5.2; DRAW_SPEC §5, §14) and its public code (B.6).

The guarantee of a verifiable draw rests on one ordering: the commitment exists, is stored and
is published (`sampling.draw.committed.v1`) before the randomness does (§14.1). So a draw moves
prepared → committed → revealed → computed → completed, and each step needs the one before:
nothing can reveal into an uncommitted draw, nothing computes before every party revealed or the
beacon round was obtained. `failed` and `voided` are end states, published with their reason;
neither is ever re-opened, and a completed draw is never re-run (R14, §14.2). Another draw of the
same batch is a new draw with a new commitment and a new public code.

The transitions are a table, as for the batch (planning's `domain/batch_lifecycle.py`), so what
is legal can be read, listed and tested in one place. Everything IDS-1 defines (the document, `C`,
the seed, both phases, the bundle) is `shuangsui.drawspec`'s; this module only says *when*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from shuangsui.drawspec import (
    DrawInputs,
    Recusal,
    Rejected,
    VerifierUnavailable,
    verify_tree,
)
from shuangsui.drawspec.beacon import beacon_value_json, read_beacon_value
from shuangsui.drawspec.builder import bundle_tree
from shuangsui.drawspec.commitment import commitment_hash, read_commitment
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.drawspec.model import BeaconValue

REASON_MAX = 2000
SEQUENCE_MAX = 99
BATCH_CODE = r"[0-9]{6}[0-9]{8}[0-9]{4}"
DRAW_CODE = re.compile(rf"^(?P<batch>{BATCH_CODE})-(?P<sequence>[0-9]{{2}})$")


class DrawStatus(StrEnum):
    prepared = "prepared"  # inputs frozen, nothing public yet
    committed = "committed"  # commitment stored and published; the randomness does not exist
    revealed = "revealed"  # every party revealed / the beacon round was obtained and checked
    computed = "computed"  # bundle and result computed by the verifier's own code
    completed = "completed"  # result published (sampling.draw.completed.v1)
    failed = "failed"  # missing reveal, beacon past its deadline, … (published, final)
    voided = "voided"  # a completed draw annulled with a reason and a second approver (R14)


class DrawAction(StrEnum):
    commit = "commit"
    reveal = "reveal"  # the last party revealed, or the drand round verified
    compute = "compute"
    complete = "complete"
    fail = "fail"
    void = "void"


class DrawKind(StrEnum):
    """What one IDS-1 draw decides (B.11, R20)."""

    combined = "combined"  # a single-department batch: subjects and teams in one draw
    subjects = "subjects"  # a cross-department batch's one subject draw for all (team = null)
    teams = "teams"  # one department's team draw over a completed subject draw


class FailReason(StrEnum):
    missing_reveal = "missing_reveal"  # a party did not reveal by the deadline (§5.2)
    beacon_unavailable = "beacon_unavailable"  # no verified drand round by the deadline
    batch_cancelled = "batch_cancelled"  # planning cancelled the batch mid-draw (R7)
    verification_rejected = "verification_rejected"  # the verifier refused the bundle


TERMINAL = frozenset({DrawStatus.completed, DrawStatus.failed, DrawStatus.voided})
# A completed draw is final too, except that it can be voided; it is never re-run.
ENDED = frozenset({DrawStatus.failed, DrawStatus.voided})

# (from, action) → to; anything else is refused.
TRANSITIONS: Mapping[tuple[DrawStatus, DrawAction], DrawStatus] = {
    (DrawStatus.prepared, DrawAction.commit): DrawStatus.committed,
    (DrawStatus.committed, DrawAction.reveal): DrawStatus.revealed,
    (DrawStatus.revealed, DrawAction.compute): DrawStatus.computed,
    (DrawStatus.computed, DrawAction.complete): DrawStatus.completed,
    (DrawStatus.prepared, DrawAction.fail): DrawStatus.failed,
    (DrawStatus.committed, DrawAction.fail): DrawStatus.failed,
    (DrawStatus.revealed, DrawAction.fail): DrawStatus.failed,
    (DrawStatus.completed, DrawAction.void): DrawStatus.voided,
}

# Which failure can end a draw in which status. A computed draw has a verified result: only
# completion (exactly once, also after a crash) follows it.
FAILS_FROM: Mapping[FailReason, frozenset[DrawStatus]] = {
    FailReason.missing_reveal: frozenset({DrawStatus.committed}),
    FailReason.beacon_unavailable: frozenset({DrawStatus.committed}),
    FailReason.batch_cancelled: frozenset(
        {DrawStatus.prepared, DrawStatus.committed, DrawStatus.revealed}
    ),
    FailReason.verification_rejected: frozenset({DrawStatus.revealed}),
}
FAILS_FOR_SOURCE: Mapping[FailReason, frozenset[str]] = {
    FailReason.missing_reveal: frozenset({"commit-reveal"}),
    FailReason.beacon_unavailable: frozenset({"drand-quicknet"}),
}


class DrawRuleError(ValueError):
    """A rule of the draw's life refused a change; `rule` is stable (an IDS-1 error code such as
    `E_BEACON` where the spec defines one), `field` the input's path."""

    def __init__(self, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.field = field


class IllegalDrawTransition(DrawRuleError):
    def __init__(self, status: DrawStatus, action: DrawAction) -> None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s is status)
        rule = "draw-completed-final" if status is DrawStatus.completed else "draw-transition"
        super().__init__(
            rule,
            f"a {status} draw cannot {action}"
            + (f"; it can {', '.join(allowed)}" if allowed else "; it is final"),
        )
        self.status = status
        self.action = action


def next_status(status: DrawStatus, action: DrawAction) -> DrawStatus:
    """The status after `action`, or `IllegalDrawTransition`."""
    try:
        return TRANSITIONS[status, action]
    except KeyError:
        raise IllegalDrawTransition(status, action) from None


def allowed_actions(status: DrawStatus) -> frozenset[DrawAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is status)


# ---- the public code (B.6): the batch's code, a dash, the draw's sequence in the batch -------


@dataclass(frozen=True)
class DrawCode:
    batch_code: str
    sequence: int

    def __str__(self) -> str:
        return f"{self.batch_code}-{self.sequence:02d}"


def draw_code(batch_code: str, sequence: int) -> str:
    """`<batch_code>-<nn>`: B.6 wants the draw's public code derived from the batch's, never an
    internal id, and a code of its own for every draw of the batch (each department's team draw,
    each re-run after a failed or voided draw). One sequence per batch gives all of that and
    reads back to its batch at a glance."""
    if not re.fullmatch(BATCH_CODE, batch_code):
        raise DrawRuleError("draw-code", f"{batch_code!r} is not an 18-digit batch code")
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise DrawRuleError(
            "draw-code-exhausted", f"batch {batch_code} has used all {SEQUENCE_MAX} draw codes"
        )
    return str(DrawCode(batch_code, sequence))


def parse_draw_code(code: str) -> DrawCode:
    match = DRAW_CODE.fullmatch(code)
    if match is None or match["sequence"] == "00":
        raise DrawRuleError(
            "draw-code", "a draw code is the batch code, '-' and a sequence 01–99", "draw_code"
        )
    return DrawCode(match["batch"], int(match["sequence"]))


# ---- which draw a batch may start next -------------------------------------------------------


@dataclass(frozen=True)
class DrawSummary:
    """What the batch's earlier draws tell about the next one."""

    draw_code: str
    kind: DrawKind
    status: DrawStatus
    org_id: UUID | None = None  # the department of a teams draw
    subjects_draw_code: str | None = None  # the subject draw a teams draw is over
    county_code: str | None = None  # the county of a B.10 per-county draw


def _same_decision(
    a: DrawSummary, kind: DrawKind, org_id: UUID | None, over: str | None, county: str | None
) -> bool:
    if kind is DrawKind.teams:
        return a.kind is DrawKind.teams and a.org_id == org_id and a.subjects_draw_code == over
    return a.kind in (DrawKind.combined, DrawKind.subjects) and a.county_code == county


def prepared_draw(
    earlier: Sequence[DrawSummary],
    kind: DrawKind,
    *,
    org_id: UUID | None = None,
    subjects_draw_code: str | None = None,
    county_code: str | None = None,
) -> DrawSummary | None:
    """The decision's live draw when it is only prepared: nothing of it is committed or public,
    so a prepare asked to `refresh` rebuilds its inputs in place (same code) — e.g. once the
    planner has fixed what its `team_shortfalls` named (R18)."""
    return next(
        (d for d in earlier if d.status is DrawStatus.prepared
         and _same_decision(d, kind, org_id, subjects_draw_code, county_code)),
        None,
    )  # fmt: skip


def next_draw_code(
    batch_code: str,
    kind: DrawKind,
    earlier: Sequence[DrawSummary],
    *,
    org_id: UUID | None = None,
    subjects_draw_code: str | None = None,
    county_code: str | None = None,
) -> str:
    """The code of a new draw of the batch, or why none may start (R14, B.10, B.11).

    A decision is the batch's subject draw (per county for B.10) or one department's team draw
    over it. A draw in flight blocks another of the same decision (`draw-in-progress`); a
    completed one is never re-run: it must be voided first (`draw-already-completed`). A team
    draw needs its subject draw completed (`draw-subjects-not-completed`). Failed and voided
    draws stay visible and only use up their codes.
    """
    if kind is DrawKind.teams:
        over = next((d for d in earlier if d.draw_code == subjects_draw_code), None)
        if org_id is None or over is None or over.kind is not DrawKind.subjects:
            raise DrawRuleError(
                "draw-subjects-not-completed",
                "a team draw is made by one department over the batch's subject draw (B.11)",
                "subjects_draw_code",
            )
        if over.status is not DrawStatus.completed:
            raise DrawRuleError(
                "draw-subjects-not-completed",
                f"the subject draw {over.draw_code} is {over.status}, not completed",
                "subjects_draw_code",
            )
    for draw in earlier:
        if not _same_decision(draw, kind, org_id, subjects_draw_code, county_code):
            continue
        if draw.status is DrawStatus.completed:
            raise DrawRuleError(
                "draw-already-completed",
                f"draw {draw.draw_code} is completed and is never re-run; void it first (R14)",
            )
        if draw.status not in ENDED:
            raise DrawRuleError(
                "draw-in-progress", f"draw {draw.draw_code} is {draw.status}; finish or fail it"
            )
    used = [parse_draw_code(d.draw_code).sequence for d in earlier]
    return draw_code(batch_code, max(used, default=0) + 1)


def batch_drawn(joint: bool, departments: Iterable[UUID], draws: Sequence[DrawSummary]) -> bool:
    """Whether the batch is drawn (planning's `drawing → drawn`): its combined draw completed,
    one per county for a B.10 batch (every county a draw of the batch was prepared for), or for
    a cross-department batch its subject draw and every department's team draw over it."""
    live = [d for d in draws if d.status is DrawStatus.completed]
    if not joint:
        counties = {d.county_code for d in draws if d.kind is DrawKind.combined}
        done = {d.county_code for d in live if d.kind is DrawKind.combined}
        return bool(counties) and counties <= done
    subjects = next((d for d in live if d.kind is DrawKind.subjects), None)
    if subjects is None:
        return False
    teams = {
        d.org_id
        for d in live
        if d.kind is DrawKind.teams and d.subjects_draw_code == subjects.draw_code
    }
    return set(departments) <= teams


def live_subject_draw(draws: Sequence[DrawSummary]) -> DrawSummary | None:
    """The batch's subject draw a team draw goes over: the one not failed or voided, if any."""
    return next((d for d in draws if d.kind is DrawKind.subjects and d.status not in ENDED), None)


# ---- the draw itself -------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    reason: FailReason
    missing_parties: tuple[str, ...] = ()
    detail: str | None = None


@dataclass(frozen=True)
class Voiding:
    """R14, R37: the reason, who asked and a second person who approved."""

    reason: str
    requested_by: str
    approved_by: str


def voiding(reason: str | None, requested_by: str, approved_by: str | None) -> Voiding:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise DrawRuleError("draw-void-reason", "a void states its reason (R14)", "reason")
    if len(cleaned) > REASON_MAX:
        raise DrawRuleError("draw-void-reason", f"at most {REASON_MAX} characters", "reason")
    if not approved_by:
        raise DrawRuleError("draw-void-approver", "a void needs an approver", "approved_by")
    if approved_by == requested_by:
        raise DrawRuleError(
            "draw-void-approver",
            "the approver of a void must be another person than who asked for it (R14)",
            "approved_by",
        )
    return Voiding(cleaned, requested_by, approved_by)


@dataclass(frozen=True)
class Draw:
    """One IDS-1 draw of a batch. Immutable: every step returns the draw after it."""

    draw_id: UUID
    draw_code: str
    batch_id: UUID
    kind: DrawKind
    status: DrawStatus = DrawStatus.prepared
    org_id: UUID | None = None  # the department whose teams it draws
    department_type: str | None = None
    subjects_draw_code: str | None = None
    county_code: str | None = None  # the county of a B.10 per-county draw
    commitment: dict[str, JsonValue] | None = None
    commitment_sha256: str | None = None
    beacon_value: BeaconValue | None = None
    bundle: dict[str, JsonValue] | None = None
    result: dict[str, JsonValue] | None = None
    failure: Failure | None = None
    voided: Voiding | None = None

    @property
    def beacon_source(self) -> str | None:
        if self.commitment is None:
            return None
        beacon = self.commitment["beacon"]
        assert isinstance(beacon, dict)
        source = beacon["source"]
        assert isinstance(source, str)
        return source

    def _to(self, action: DrawAction, **changes: object) -> Draw:
        status = next_status(self.status, action)
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def commit(self, document: dict[str, JsonValue], *, test_mode: bool = False) -> Draw:
        """Store the commitment; the caller publishes `sampling.draw.committed.v1` in the same
        transaction, before any party reveals or the round is due (§14.1). A fixed beacon is
        committed only in test or dev mode (§5.3)."""
        if self.status is not DrawStatus.prepared:
            raise IllegalDrawTransition(self.status, DrawAction.commit)
        try:
            commitment = read_commitment(document)
        except Rejected as rejection:
            raise DrawRuleError(rejection.code.value, rejection.message, "commitment") from None
        if (commitment.team is None) != (self.kind is DrawKind.subjects):
            raise DrawRuleError(
                "draw-kind-team",
                f"a {self.kind} draw {'has no' if self.kind is DrawKind.subjects else 'has a'} "
                "team phase (B.11)",
                "commitment.team",
            )
        if commitment.beacon.source == "fixed" and not test_mode:
            raise DrawRuleError(
                "draw-beacon-fixed",
                "a fixed beacon is for tests and development only (DRAW_SPEC §5.3)",
                "commitment.beacon",
            )
        if document["draw_id"] != self.draw_code:
            raise DrawRuleError(
                "draw-code-mismatch",
                f"the commitment names draw {document['draw_id']!r}, not {self.draw_code}",
                "commitment.draw_id",
            )
        return self._to(
            DrawAction.commit,
            commitment=document,
            commitment_sha256=commitment_hash(document).hex(),
        )

    def reveal(self, value: BeaconValue) -> Draw:
        """The randomness now exists: all reveals collected, or the round obtained. Its shape is
        read as a verifier would (§5.4: a malformed value is `E_SCHEMA`); its relation to the
        commitment is checked by the verifier at `compute` (and before, by `beacons`)."""
        if self.status is not DrawStatus.committed:
            raise IllegalDrawTransition(self.status, DrawAction.reveal)
        assert self.commitment is not None
        commitment = read_commitment(self.commitment)
        try:
            read_beacon_value(commitment.beacon, beacon_value_json(value), "beacon_value")
        except Rejected as rejection:
            raise DrawRuleError(rejection.code.value, rejection.message, "beacon_value") from None
        return self._to(DrawAction.reveal, beacon_value=value)

    def compute(self, inputs: DrawInputs, recusals: Sequence[Recusal] = ()) -> Draw:
        """Bundle (§10.1) and result (§10.2), by the verifier's own code (`verify_tree`), so what
        is published is exactly what anyone recomputes. A rejection raises `DrawRuleError` with
        the IDS-1 code; the caller then fails the draw with `verification_rejected`."""
        if self.status is not DrawStatus.revealed:
            raise IllegalDrawTransition(self.status, DrawAction.compute)
        assert self.commitment is not None
        assert self.beacon_value is not None
        try:
            # Unchecked: verify_tree's step 1 is build_bundle's check, so it runs once.
            bundle = bundle_tree(self.commitment, self.beacon_value, inputs, recusals)
            result = verify_tree(bundle)
        except Rejected as rejection:
            raise DrawRuleError(rejection.code.value, rejection.message, "bundle") from None
        except VerifierUnavailable as exc:
            # Not a verdict on the draw: the installation cannot check it (drand extra missing).
            raise DrawRuleError("draw-beacon-unverifiable", str(exc), "beacon_value") from None
        return self._to(DrawAction.compute, bundle=bundle, result=result)

    def complete(self) -> Draw:
        return self._to(DrawAction.complete)

    def fail(self, failure: Failure) -> Draw:
        if self.status not in FAILS_FROM[failure.reason]:
            if (self.status, DrawAction.fail) not in TRANSITIONS:
                raise IllegalDrawTransition(self.status, DrawAction.fail)
            raise DrawRuleError(
                "draw-fail-reason", f"a {self.status} draw cannot fail for {failure.reason}"
            )
        sources = FAILS_FOR_SOURCE.get(failure.reason)
        if sources is not None and self.beacon_source not in sources:
            raise DrawRuleError(
                "draw-fail-reason",
                f"{failure.reason} is a failure of a {' or '.join(sorted(sources))} beacon, "
                f"not of {self.beacon_source}",
            )
        if failure.reason is FailReason.missing_reveal and not failure.missing_parties:
            raise DrawRuleError(
                "draw-fail-reason", "a missing reveal names the missing parties (§5.2)"
            )
        return self._to(DrawAction.fail, failure=failure)

    def void(self, reason: str | None, requested_by: str, approved_by: str | None) -> Draw:
        if self.status is not DrawStatus.completed:
            raise IllegalDrawTransition(self.status, DrawAction.void)
        return self._to(DrawAction.void, voided=voiding(reason, requested_by, approved_by))

    def summary(self) -> DrawSummary:
        return DrawSummary(
            self.draw_code, self.kind, self.status, self.org_id, self.subjects_draw_code,
            self.county_code,
        )  # fmt: skip
