"""The drand quicknet beacon (DRAW_SPEC §5.1), checks (a)–(d).

Check (d), the BLS signature, MUST use an existing drand library, not hand-written pairing
code; we use the optional `drand-verify` package (extra `drand`), imported only when a
quicknet bundle reaches step 6 so the core stays standard-library only. When it is missing
we raise `VerifierUnavailable` rather than pass or reject: either would be a false verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .encoding import timestamp_seconds
from .errors import ErrorCode, Rejected, VerifierUnavailable
from .model import DrandBeacon, DrandValue

QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
    "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb"
    "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
)
QUICKNET_GENESIS = 1692803367
QUICKNET_PERIOD = 3
SIGNATURE_HEX_DIGITS = 96
INSTALL_HINT = "pip install 'shuangsui-drawspec[drand]'"

BlsVerify = Callable[[int, str], str]


def round_time(round_number: int) -> int:
    """Unix time of a quicknet round: genesis + 3·(N−1)."""
    return QUICKNET_GENESIS + QUICKNET_PERIOD * (round_number - 1)


def check_round(
    beacon: DrandBeacon,
    value: DrandValue,
    committed_at: str,
    bls_verify: BlsVerify | None = None,
) -> None:
    """Raise `E_BEACON` if any of checks (a)–(d) fails.

    The cheap checks run first so a bundle that is wrong anyway is rejected even where the
    `drand` extra is not installed.
    """
    if beacon.chain_hash != QUICKNET_CHAIN_HASH:
        raise _fail(f"beacon.chain_hash {beacon.chain_hash[:16]}… is not drand quicknet's")
    committed = timestamp_seconds(committed_at)
    assert committed is not None, "committed_at is validated in step 1"
    if round_time(beacon.round) <= committed:
        raise _fail(
            f"round {beacon.round} (time {round_time(beacon.round)}) is not strictly after "
            f"committed_at {committed_at}"
        )
    signature = bytes.fromhex(value.signature)
    if hashlib.sha256(signature).hexdigest() != value.randomness:
        raise _fail("beacon_value.randomness is not SHA-256 of the signature")
    if len(value.signature) != SIGNATURE_HEX_DIGITS:
        raise _fail(
            f"beacon_value.signature has {len(value.signature)} hex digits; a quicknet "
            f"signature has {SIGNATURE_HEX_DIGITS}"
        )
    verify = bls_verify if bls_verify is not None else _library_verifier()
    try:
        derived = verify(beacon.round, value.signature)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # drand-verify surfaces Rust panics as BaseException
        raise _fail(f"BLS signature does not verify for round {beacon.round}: {exc}") from None
    if derived != value.randomness:
        raise _fail("the verified round's randomness differs from beacon_value.randomness")


def _library_verifier() -> BlsVerify:
    try:
        from drand_verify import verify_quicknet  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise VerifierUnavailable(
            "cannot check the BLS signature of a drand-quicknet beacon (DRAW_SPEC §5.1 (d)): "
            f"the optional package drand-verify is not installed; run: {INSTALL_HINT}"
        ) from exc

    def verify(round_number: int, signature_hex: str) -> str:
        # The key is passed explicitly so a future default change cannot weaken the check.
        result = verify_quicknet(round_number, signature_hex, QUICKNET_PUBLIC_KEY)
        return str(result)

    return verify


def _fail(message: str) -> Rejected:
    return Rejected(ErrorCode.BEACON, message)
