"""Result and rejection objects (DRAW_SPEC §10.2–§10.4) and comparing them as JSON values."""

from __future__ import annotations

from collections.abc import Sequence

from .jsontext import Defect, JsonValue
from .phase_a import StratumSelection
from .phase_b import PhaseB
from .recusal import Replacement

RESULT_KEYS = frozenset(
    {
        "commitment_sha256",
        "seed",
        "strata",
        "result_sha256",
        "seed_b",
        "assignments",
        "replacements",
    }
)


def result_object(
    commitment_hash: bytes,
    seed: bytes,
    selections: Sequence[StratumSelection],
    result_raw: bytes,
    seed_b: bytes | None,
    teams: PhaseB | None,
    replacements: Sequence[Replacement],
) -> dict[str, JsonValue]:
    """The result of a successful verification (§10.2); strata in document order."""
    strata: list[JsonValue] = [
        {
            "stratum": s.stratum,
            "population": s.population,
            "sample_size": s.sample_size,
            "selected": list(s.selected),
            "cutoff_key": s.cutoff_key,
            "next_key": s.next_key,
        }
        for s in selections
    ]
    return {
        "commitment_sha256": commitment_hash.hex(),
        "seed": seed.hex(),
        "strata": strata,
        "result_sha256": result_raw.hex(),
        "seed_b": None if seed_b is None else seed_b.hex(),
        "assignments": [] if teams is None else [a.to_json() for a in teams.assignments],
        "replacements": [r.to_json() for r in replacements],
    }


def is_rejection_object(value: JsonValue) -> bool:
    """`{"error": CODE}` with an optional message (§10.3, §10.4)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("error"), str)
        and set(value) <= {"error", "message"}
    )


def is_result_object(value: JsonValue) -> bool:
    """An object with exactly the keys of §10.2 (the values are compared, not validated)."""
    return isinstance(value, dict) and set(value) == RESULT_KEYS


def first_difference(published: JsonValue, computed: JsonValue, path: str = "") -> str | None:
    """The path of the first difference between two JSON values, or None if equal.

    Rejections compare by code only (§10.4). Types are compared strictly: `true` is not `1`.
    """
    if is_rejection_object(published) and is_rejection_object(computed):
        assert isinstance(published, dict)
        assert isinstance(computed, dict)
        return None if published["error"] == computed["error"] else _join(path, "error")
    return _diff(published, computed, path)


def _diff(a: JsonValue, b: JsonValue, path: str) -> str | None:
    if isinstance(a, Defect) or isinstance(b, Defect) or type(a) is not type(b):
        return path or "(the whole object)"
    if isinstance(a, dict):
        assert isinstance(b, dict)
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return _join(path, key)
            found = _diff(a[key], b[key], _join(path, key))
            if found is not None:
                return found
        return None
    if isinstance(a, list):
        assert isinstance(b, list)
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _diff(x, y, f"{path}[{index}]")
            if found is not None:
                return found
        return None if len(a) == len(b) else f"{path}[{min(len(a), len(b))}]"
    return None if a == b else (path or "(the whole object)")


def value_at(value: JsonValue, path: str) -> JsonValue:
    """The value at a path produced by `first_difference`, or None where it does not exist."""
    current: JsonValue = value
    for part in _split(path):
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return None
            current = current[part]
        else:
            if not isinstance(current, dict) or part not in current:
                return None
            current = current[part]
    return current


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    if path.startswith("("):
        return parts
    for chunk in path.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            number, _, rest = rest.partition("]")
            parts.append(int(number))
            rest = rest.removeprefix("[")
    return parts
