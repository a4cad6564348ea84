"""The seed (DRAW_SPEC §6) and the phase-B seed (§8.1)."""

from __future__ import annotations

from .encoding import tagged_hash


def draw_seed(commitment_hash: bytes, randomness: bytes) -> bytes:
    """`seed = H("seed", C, R)`, both as raw 32-byte fields."""
    return tagged_hash("seed", commitment_hash, randomness)


def assignment_seed(seed: bytes, result_raw: bytes) -> bytes:
    """`seed_B = H("assign", seed, result_raw)` with the 32-byte result hash."""
    return tagged_hash("assign", seed, result_raw)
