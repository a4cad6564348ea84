"""A published result checked against its bundle, as a structured verdict (DRAW_SPEC §10.5, §11).

`ids1 verify` prints `Verdict.to_json()`; a service answering "does this draw verify?" reads the
same object (`checks` says which steps of §11 ran and which one stopped the verifier). One
verdict for both, so the platform can never say something the command line would not."""

from __future__ import annotations

from dataclasses import dataclass

from .drand import BlsVerify
from .errors import ErrorCode
from .jsontext import JsonValue
from .result import first_difference, value_at
from .verification import outcome

# The steps of §11 in order, and the codes each may stop with; step 7 (compute) has none.
STEPS: tuple[tuple[int, str, tuple[ErrorCode, ...]], ...] = (
    (1, "schema", (ErrorCode.SCHEMA,)),
    (2, "order", (ErrorCode.DUPLICATE, ErrorCode.UNSORTED)),
    (3, "list_hashes", (ErrorCode.HASH_MISMATCH,)),
    (4, "exclusions", (ErrorCode.EXCLUDED_PRESENT,)),
    (5, "strata", (ErrorCode.UNKNOWN_STRATUM,)),
    (6, "beacon", (ErrorCode.BEACON,)),
    (7, "compute", ()),
    (8, "recusals", (ErrorCode.RECUSAL,)),
)


@dataclass(frozen=True, slots=True)
class Check:
    """One step of §11: `passed` is None when an earlier step stopped the verifier."""

    step: int
    name: str
    passed: bool | None

    def to_json(self) -> dict[str, JsonValue]:
        return {"step": self.step, "check": self.name, "passed": self.passed}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The published result compared with the one computed from the bundle, as JSON values
    (a rejection compares by code only, §10.4): `field` is the first path that differs."""

    published: JsonValue
    computed: dict[str, JsonValue]
    field: str | None

    @classmethod
    def of(cls, published: JsonValue, computed: dict[str, JsonValue]) -> Verdict:
        """Compare a published result (or rejection) with the computed outcome."""
        return cls(published, computed, first_difference(published, computed))

    @property
    def match(self) -> bool:
        return self.field is None

    @property
    def outcome(self) -> str:
        """`result`, or the code the bundle was rejected with."""
        error = self.computed.get("error")
        return error if isinstance(error, str) else "result"

    @property
    def checks(self) -> tuple[Check, ...]:
        """The steps of §11: all passed for a computed result; up to the failing one for a
        rejection, the later ones not run."""
        stopped = self.outcome
        found: list[Check] = []
        halted = False
        for step, name, codes in STEPS:
            if halted:
                found.append(Check(step, name, None))
                continue
            failed = stopped in {c.value for c in codes}
            found.append(Check(step, name, not failed))
            halted = failed
        return tuple(found)

    def to_json(self) -> dict[str, JsonValue]:
        """What `ids1 verify` prints: `match`, `outcome`, `field` and, on a mismatch, the
        `published` and `computed` values at that field."""
        field = self.field
        verdict: dict[str, JsonValue] = {"match": field is None, "outcome": self.outcome,
                                         "field": field}  # fmt: skip
        if field is not None:
            verdict["published"] = value_at(self.published, field)
            verdict["computed"] = value_at(self.computed, field)
        return verdict


def verdict_of(
    bundle: JsonValue, published: JsonValue, *, bls_verify: BlsVerify | None = None
) -> Verdict:
    """Recompute the bundle (steps 1–8) and compare the published result with it."""
    return Verdict.of(published, outcome(bundle, bls_verify=bls_verify))
