"""IDS-1: the verifiable random draw for double-random inspections (standard library only).

Verify a published bundle::

    from shuangsui.drawspec import Rejected, verify_bytes
    try:
        result = verify_bytes(open("bundle.json", "rb").read())   # the result object, §10.2
    except Rejected as rejection:
        print(rejection.code, rejection.message)                    # e.g. E_HASH_MISMATCH

Modules follow DRAW_SPEC's sections: `encoding` (§2), `jsontext` (§2.9–2.11, §4.2), `lists`
(§3), `commitment` (§4), `beacon` and `drand` (§5), `seed` (§6), `phase_a` (§7), `phase_b`
(§8), `recusal` (§9), `result` (§10), `ordering`, `verification` and `verdict` (§11), `sql`
(Appendix A). `builder` helps operators produce commitments and bundles; `cli` is the
`ids1` command.
"""

from .builder import DrawInputs, PartySecret, build_bundle, build_commitment, new_party_secret
from .errors import ErrorCode, Rejected, VerifierUnavailable
from .model import (
    Bundle,
    CommitRevealBeacon,
    Conflict,
    DrandBeacon,
    DrandValue,
    Exclusion,
    FixedBeacon,
    Inspector,
    Ratio,
    Recusal,
    Reveal,
    StratumRule,
    Subject,
    TeamRule,
)
from .verdict import Check, Verdict, verdict_of
from .verification import outcome, read_bundle, verify_bundle, verify_bytes, verify_tree

__all__ = [
    "Bundle",
    "Check",
    "CommitRevealBeacon",
    "Conflict",
    "DrandBeacon",
    "DrandValue",
    "DrawInputs",
    "ErrorCode",
    "Exclusion",
    "FixedBeacon",
    "Inspector",
    "PartySecret",
    "Ratio",
    "Recusal",
    "Rejected",
    "Reveal",
    "StratumRule",
    "Subject",
    "TeamRule",
    "Verdict",
    "VerifierUnavailable",
    "build_bundle",
    "build_commitment",
    "new_party_secret",
    "outcome",
    "read_bundle",
    "verdict_of",
    "verify_bundle",
    "verify_bytes",
    "verify_tree",
]
