"""The published test vectors (DRAW_SPEC §13) and local drand tamper vectors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from shuangsui.drawspec import VerifierUnavailable, outcome
from shuangsui.drawspec.jsontext import parse_json
from shuangsui.drawspec.result import first_difference

HAS_DRAND = importlib.util.find_spec("drand_verify") is not None
DRAND_VECTORS = {
    "TV6-drand-real-round",
    "TV6x-drand-tampered-signature",
    "TV6y-drand-other-round",
}


def test_vector_is_reproduced(vector_path: Path) -> None:
    path = vector_path
    vector = parse_json(path.read_bytes())
    assert isinstance(vector, dict)
    if path.stem in DRAND_VECTORS and not HAS_DRAND:
        pytest.skip("drand-verify (extra 'drand') not installed: check (d) is unavailable")
    computed = outcome(vector["bundle"])
    difference = first_difference(vector["expected"], computed)
    assert difference is None, f"{path.stem}: differs at {difference}: {computed}"


def test_local_copies_equal_the_shared_vectors(vector_dirs: SimpleNamespace) -> None:
    if not vector_dirs.shared.is_dir():
        pytest.skip("shared/design/draw-vectors is not beside this checkout")
    shared = {p.name: p.read_bytes() for p in vector_dirs.shared.glob("*.json")}
    assert set(shared) == {f"{name}.json" for name in vector_dirs.public}
    for name, data in shared.items():
        assert (vector_dirs.local / name).read_bytes() == data, f"{name} copy is stale"


def test_every_public_vector_is_present_locally(vector_dirs: SimpleNamespace) -> None:
    for name in vector_dirs.public:
        assert (vector_dirs.local / f"{name}.json").is_file()


@pytest.mark.parametrize("name", sorted(DRAND_VECTORS))
def test_drand_vectors_never_pass_silently_without_the_extra(
    name: str, monkeypatch: pytest.MonkeyPatch, vector_dirs: SimpleNamespace
) -> None:
    # A None entry in sys.modules makes the import fail, as on a machine without the extra.
    monkeypatch.setitem(sys.modules, "drand_verify", None)
    vector = parse_json((vector_dirs.local / f"{name}.json").read_bytes())
    assert isinstance(vector, dict)
    with pytest.raises(VerifierUnavailable, match=r"shuangsui-drawspec\[drand\]"):
        outcome(vector["bundle"])


@pytest.mark.skipif(not HAS_DRAND, reason="drand-verify (extra 'drand') not installed")
def test_tampered_signature_fails_only_the_bls_check(vector_dirs: SimpleNamespace) -> None:
    vector = parse_json((vector_dirs.local / "TV6x-drand-tampered-signature.json").read_bytes())
    assert isinstance(vector, dict)
    computed = outcome(vector["bundle"])
    assert computed["error"] == "E_BEACON"
    assert "BLS" in str(computed["message"])
