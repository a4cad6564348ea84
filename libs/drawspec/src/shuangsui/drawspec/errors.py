"""Error codes of IDS-1 (DRAW_SPEC §11) and the exceptions that carry them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The stable rejection codes; only the code is normative (§10.3)."""

    SCHEMA = "E_SCHEMA"
    DUPLICATE = "E_DUPLICATE"
    UNSORTED = "E_UNSORTED"
    HASH_MISMATCH = "E_HASH_MISMATCH"
    EXCLUDED_PRESENT = "E_EXCLUDED_PRESENT"
    UNKNOWN_STRATUM = "E_UNKNOWN_STRATUM"
    BEACON = "E_BEACON"
    RECUSAL = "E_RECUSAL"


class Rejected(Exception):
    """The bundle is invalid under IDS-1; `code` says which check of §11 failed first."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, str]:
        """The rejection object of §10.3."""
        return {"error": self.code.value, "message": self.message}


class VerifierUnavailable(Exception):
    """A check cannot be performed in this installation (e.g. the `drand` extra is missing).

    This is deliberately not a `Rejected`: the bundle may well be valid, and reporting
    `E_BEACON` would be as wrong as reporting success. Callers must surface it.
    """


def schema_error(path: str, problem: str) -> Rejected:
    """An `E_SCHEMA` rejection naming the offending field."""
    return Rejected(ErrorCode.SCHEMA, f"{path}: {problem}" if path else problem)
