"""Shared fixtures for the IDS-1 tests: the published vectors and bundle-editing helpers."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shuangsui.drawspec import lists
from shuangsui.drawspec.beacon import party_commitment
from shuangsui.drawspec.jsontext import parse_json
from shuangsui.drawspec.schema import items

HERE = Path(__file__).resolve().parent
LOCAL_VECTORS = HERE / "vectors"
# CI clones the repo with shared/ beside it; the copies under tests/vectors keep the
# package's tests independent of that layout.
SHARED_VECTORS = HERE.parents[2].parent / "shared" / "design" / "draw-vectors"
PUBLIC_VECTORS = (
    "TV1-basic-strata",
    "TV2-weighted",
    "TV3-teams",
    "TV4-commit-reveal-chinese",
    "TV5-reject-hash-mismatch",
    "TV6-drand-real-round",
)


def load_vector(name: str) -> dict[str, Any]:
    """A vector from tests/vectors, parsed the way the verifier parses it."""
    tree = parse_json((LOCAL_VECTORS / f"{name}.json").read_bytes())
    assert isinstance(tree, dict)
    return tree


def bundle_of(name: str) -> dict[str, Any]:
    """A deep copy of a vector's bundle, free to mutate."""
    return copy.deepcopy(load_vector(name)["bundle"])


def rehash(bundle: dict[str, Any]) -> dict[str, Any]:
    """Recompute the four committed list hashes after a test edited the lists.

    Used to arrange bundles that must get past step 3 so a later step can be exercised.
    """
    c = bundle["commitment"]
    c["manifest_sha256"] = lists.manifest_hash(
        items(bundle["manifest"], "manifest", lists.read_subject)
    )
    c["exclusions_sha256"] = lists.exclusions_hash(
        items(bundle["exclusions"], "exclusions", lists.read_exclusion)
    )
    c["inspectors_sha256"] = lists.inspectors_hash(
        items(bundle["inspectors"], "inspectors", lists.read_inspector)
    )
    c["conflicts_sha256"] = lists.conflicts_hash(
        items(bundle["conflicts"], "conflicts", lists.read_conflict)
    )
    return bundle


def with_fixed_beacon(bundle: dict[str, Any], value: str) -> dict[str, Any]:
    """Replace the beacon of a bundle by a fixed test beacon with the given hex value."""
    bundle["commitment"]["beacon"] = {"source": "fixed", "value": value}
    bundle["beacon_value"] = value
    return bundle


def fixed_value(label: str) -> str:
    """A deterministic 64-hex beacon value derived from a label."""
    return hashlib.sha256(label.encode()).hexdigest()


def to_bytes(tree: Any) -> bytes:
    """Serialize a test bundle as UTF-8 JSON (non-ASCII literal, like producers do)."""
    return json.dumps(tree, ensure_ascii=False).encode("utf-8")


def party_hex(party_id: str, secret_hex: str) -> str:
    """The commitment a party would publish for its secret."""
    return party_commitment(party_id, bytes.fromhex(secret_hex)).hex()


def vector_files() -> list[Path]:
    """Local vector copies, plus the shared originals when shared/ is beside the checkout."""
    files = sorted(LOCAL_VECTORS.glob("*.json"))
    if SHARED_VECTORS.is_dir():
        files += sorted(SHARED_VECTORS.glob("*.json"))
    return files


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test that asks for `vector_path` over every vector file."""
    if "vector_path" in metafunc.fixturenames:
        files = vector_files()
        metafunc.parametrize("vector_path", files, ids=[f"{p.parent.name}/{p.stem}" for p in files])


@pytest.fixture
def vector_dirs() -> SimpleNamespace:
    """Where the vectors live, and the names of the published ones."""
    return SimpleNamespace(local=LOCAL_VECTORS, shared=SHARED_VECTORS, public=PUBLIC_VECTORS)


@pytest.fixture
def kit() -> SimpleNamespace:
    """Helper functions for arranging bundles (pytest's importlib mode has no test helpers
    module on the path, so they travel as a fixture)."""
    helpers: dict[str, Callable[..., Any]] = {
        "load_vector": load_vector,
        "bundle_of": bundle_of,
        "rehash": rehash,
        "with_fixed_beacon": with_fixed_beacon,
        "fixed_value": fixed_value,
        "to_bytes": to_bytes,
        "party_hex": party_hex,
    }
    return SimpleNamespace(**helpers)
