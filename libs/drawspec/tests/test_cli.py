"""The `ids1` command: exit codes of §10.5, stdin, vector mode, operator subcommands."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shuangsui.drawspec.cli import main, run
from shuangsui.drawspec.cli_io import Io


class Ran:
    """The outcome of one in-process run."""

    def __init__(self, argv: list[str], stdin: bytes = b"") -> None:
        out, err = io.StringIO(), io.StringIO()
        self.code = run(argv, Io(io.BytesIO(stdin), out, err))
        self.stdout, self.stderr = out.getvalue(), err.getvalue()

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def files(tmp_path: Path, kit):  # type: ignore[no-untyped-def]
    def write(name: str, value: object) -> str:
        path = tmp_path / name
        data = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()
        path.write_bytes(data)
        return str(path)

    return write


def test_compute_prints_the_result_and_exits_0(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV3-teams")
    ran = Ran(["compute", files("b.json", vector["bundle"])])
    assert ran.code == 0
    assert ran.json() == vector["expected"]
    assert "fixed beacon" in ran.stderr


def test_compute_reads_stdin(kit) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV4-commit-reveal-chinese")
    ran = Ran(["compute", "-", "--compact"], stdin=kit.to_bytes(vector["bundle"]))
    assert ran.code == 0
    assert ran.stdout.count("\n") == 1
    assert ran.json() == vector["expected"]


def test_rejected_bundle_prints_the_rejection_and_exits_1(kit, files) -> None:  # type: ignore[no-untyped-def]
    ran = Ran(["compute", files("b.json", kit.load_vector("TV5-reject-hash-mismatch")["bundle"])])
    assert ran.code == 1
    assert ran.json()["error"] == "E_HASH_MISMATCH"
    assert "manifest_sha256" in ran.json()["message"]


@pytest.mark.parametrize(
    "content",
    [b'{"commitment": 1', b"\xff\xfe", b"", b"{} {}"],
    ids=["cut", "utf16", "empty", "two"],
)
def test_non_json_input_exits_2_with_the_schema_outcome(files, content: bytes) -> None:  # type: ignore[no-untyped-def]
    ran = Ran(["compute", files("b.json", content)])
    assert ran.code == 2
    assert ran.json()["error"] == "E_SCHEMA"


def test_json_that_ids1_rejects_is_exit_1_never_2(files) -> None:  # type: ignore[no-untyped-def]
    for content in (b"[]", b'{"a": 1.5}', b'\xef\xbb\xbf{"commitment": {}}'):
        ran = Ran(["compute", files("b.json", content)])
        assert (ran.code, ran.json()["error"]) == (1, "E_SCHEMA"), content


def test_missing_file_exits_2(tmp_path: Path) -> None:
    ran = Ran(["compute", str(tmp_path / "absent.json")])
    assert ran.code == 2
    assert ran.stdout == ""
    assert "cannot read" in ran.stderr


@pytest.mark.parametrize("name", ["TV1-basic-strata", "TV5-reject-hash-mismatch"])
def test_vector_file_matching_expected_exits_0(kit, files, name: str) -> None:  # type: ignore[no-untyped-def]
    path = files("v.json", kit.load_vector(name))
    assert Ran(["compute", path]).code == 0
    assert Ran(["verify", path]).code == 0


def test_vector_file_mismatch_names_the_field(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV1-basic-strata")
    vector["expected"]["strata"][1]["selected"][2] = "B-07"
    ran = Ran(["compute", files("v.json", vector)])
    assert ran.code == 1
    assert "strata[1].selected[2]" in ran.stderr
    verdict = Ran(["verify", files("v2.json", vector)])
    assert verdict.code == 1
    assert verdict.json()["field"] == "strata[1].selected[2]"
    assert (verdict.json()["published"], verdict.json()["computed"]) == ("B-07", "B-06")


def test_vector_without_expected_is_unreadable(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV1-basic-strata")
    del vector["expected"]
    assert Ran(["compute", files("v.json", vector)]).code == 2


def test_verify_accepts_the_published_result(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV3-teams")
    ran = Ran(["verify", files("b.json", vector["bundle"]), files("r.json", vector["expected"])])
    assert ran.code == 0
    assert ran.json() == {"match": True, "outcome": "result", "field": None}


def test_verify_matches_rejections_by_code_only(kit, files) -> None:  # type: ignore[no-untyped-def]
    bundle = files("b.json", kit.load_vector("TV5-reject-hash-mismatch")["bundle"])
    same = files("r1.json", {"error": "E_HASH_MISMATCH", "message": "anything"})
    other = files("r2.json", {"error": "E_BEACON"})
    assert Ran(["verify", bundle, same]).code == 0
    ran = Ran(["verify", bundle, other])
    assert ran.code == 1
    assert ran.json()["field"] == "error"


def test_verify_reports_a_tampered_result(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV3-teams")
    vector["expected"]["assignments"][0]["cap"] = True  # true is not 1, nor 2
    ran = Ran(["verify", files("b.json", vector["bundle"]), files("r.json", vector["expected"])])
    assert ran.code == 1
    assert ran.json()["field"] == "assignments[0].cap"


@pytest.mark.parametrize("published", [[], {"result": 1}, {"error": 5}, b"not json"])
def test_verify_with_an_unrecognisable_result_exits_2(kit, files, published) -> None:  # type: ignore[no-untyped-def]
    bundle = files("b.json", kit.load_vector("TV1-basic-strata")["bundle"])
    assert Ran(["verify", bundle, files("r.json", published)]).code == 2


def test_verify_of_a_plain_bundle_without_result_is_a_usage_error(kit, files) -> None:  # type: ignore[no-untyped-def]
    assert Ran(["verify", files("b.json", kit.load_vector("TV1-basic-strata")["bundle"])]).code == 2


def test_drand_bundle_without_the_extra_exits_3(kit, files, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "drand_verify", None)
    ran = Ran(["compute", files("b.json", kit.load_vector("TV6-drand-real-round")["bundle"])])
    assert ran.code == 3
    assert ran.stdout == ""
    assert "shuangsui-drawspec[drand]" in ran.stderr


def test_help_and_usage_errors_do_not_raise(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--help"]) == 0
    assert "compute" in capsys.readouterr().out
    assert main(["compute"]) == 2
    assert main(["commitment", "--help"]) == 0
    assert "--stratum" in capsys.readouterr().out


def test_module_entry_point_runs_as_a_process(kit, files) -> None:  # type: ignore[no-untyped-def]
    path = files("v.json", kit.load_vector("TV2-weighted"))
    proc = subprocess.run(
        [sys.executable, "-m", "shuangsui.drawspec", "compute", path, "--test-mode"],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["seed"] == kit.load_vector("TV2-weighted")["expected"]["seed"]
    assert proc.stderr.decode().strip() == "ids1: OK, the expected result equals the computed one"


# --- operator subcommands ----------------------------------------------------------------


def _tv3_lists(kit, files) -> list[str]:  # type: ignore[no-untyped-def]
    b = kit.load_vector("TV3-teams")["bundle"]
    return [
        *("--manifest", files("m.json", b["manifest"])),
        *("--exclusions", files("e.json", b["exclusions"])),
        *("--inspectors", files("i.json", b["inspectors"])),
        *("--conflicts", files("c.json", b["conflicts"])),
    ]


def test_commitment_bundle_compute_round_trip_reproduces_tv3(kit, files) -> None:  # type: ignore[no-untyped-def]
    vector = kit.load_vector("TV3-teams")
    value = vector["bundle"]["beacon_value"]
    lists = _tv3_lists(kit, files)
    made = Ran(
        [
            "commitment", "--draw-id", "2025-SPOT-0003", *lists,
            "--stratum", "B=50%", "--stratum", "A=4",
            "--team-size", "2", "--lead-expertise", "food", "--scope", "same-unit",
            "--task-date", "2025-04-15", "--fixed-beacon", value,
            "--committed-at", "2025-03-05T03:00:00Z",
        ]
    )  # fmt: skip
    assert made.code == 0, made.stderr
    assert made.json() == vector["bundle"]["commitment"]
    assert f"commitment_sha256 {vector['expected']['commitment_sha256']}" in made.stderr
    bundled = Ran(
        [
            "bundle", "--commitment", files("doc.json", made.stdout.encode()),
            "--beacon-value", files("bv.json", value), *lists,
            "--recusals", files("r.json", vector["bundle"]["recusals"]),
        ]
    )  # fmt: skip
    assert bundled.code == 0, bundled.stderr
    computed = Ran(["compute", files("bundle.json", bundled.stdout.encode())])
    assert computed.json() == vector["expected"]


def test_commitment_refuses_unsorted_lists(kit, files) -> None:  # type: ignore[no-untyped-def]
    manifest = kit.load_vector("TV1-basic-strata")["bundle"]["manifest"][::-1]
    ran = Ran(
        ["commitment", "--draw-id", "d", "--manifest", files("m.json", manifest),
         "--stratum", "A=1/5", "--stratum", "B=1/5", "--stratum", "C=1/5",
         "--fixed-beacon", "0" * 64]
    )  # fmt: skip
    assert ran.code == 1
    assert ran.json()["error"] == "E_UNSORTED"


def test_commitment_refuses_a_drand_round_before_the_commitment(kit, files) -> None:  # type: ignore[no-untyped-def]
    manifest = files("m.json", kit.load_vector("TV1-basic-strata")["bundle"]["manifest"])
    ran = Ran(
        ["commitment", "--draw-id", "d", "--manifest", manifest,
         "--stratum", "A=1/5", "--stratum", "B=3/10", "--stratum", "C=3/5",
         "--drand-round", "657413", "--committed-at", "2023-09-15T11:00:03Z"]
    )  # fmt: skip
    assert ran.code == 1
    assert ran.json()["error"] == "E_BEACON"


def test_percentages_become_reduced_fractions(kit, files) -> None:  # type: ignore[no-untyped-def]
    manifest = files("m.json", kit.load_vector("TV1-basic-strata")["bundle"]["manifest"])
    ran = Ran(
        ["commitment", "--draw-id", "d", "--manifest", manifest, "--pretty",
         "--stratum", "C=100%", "--stratum", "B=2.5%", "--stratum", "A=3%",
         "--drand-round", "999999999", "--committed-at", "2025-01-01T00:00:00Z"]
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert ran.json()["strata"] == [
        {"stratum": "A", "ratio": "3/100"},
        {"stratum": "B", "ratio": "1/40"},
        {"stratum": "C", "ratio": "1/1"},
    ]


def test_party_secrets_open_their_commitments(kit, files) -> None:  # type: ignore[no-untyped-def]
    first, second = (
        Ran(["party-secret", "--party-id", "公证处"]),
        Ran(["party-secret", "--party-id", "税务局"]),
    )
    a, b = first.json(), second.json()
    assert a["secret"] != b["secret"]
    assert a["commitment"] == kit.party_hex("公证处", a["secret"])
