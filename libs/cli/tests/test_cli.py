"""The `shuangsui` command: draw pass-through and development tokens."""

import json
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from shuangsui.cli.main import app
from shuangsui.kernel.auth import TokenVerifier

VECTORS = Path(__file__).parents[2] / "drawspec" / "tests" / "vectors"
runner = CliRunner()


def test_draw_compute_reproduces_a_published_vector():
    vector = VECTORS / "TV1-basic-strata.json"
    result = runner.invoke(app, ["draw", "compute", str(vector)])
    assert result.exit_code == 0
    expected = json.loads(vector.read_text())["expected"]
    assert json.loads(result.stdout) == expected


def test_draw_compute_of_a_tampered_vector_exits_1(tmp_path):
    vector = json.loads((VECTORS / "TV1-basic-strata.json").read_text())
    vector["expected"]["seed"] = "00" * 32
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(vector))
    assert runner.invoke(app, ["draw", "compute", str(tampered)]).exit_code == 1


def test_draw_of_an_unreadable_file_exits_2(tmp_path):
    assert runner.invoke(app, ["draw", "compute", str(tmp_path / "missing.json")]).exit_code == 2


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUANGSUI_DATA_DIR", str(tmp_path / ".data"))
    return tmp_path / ".data"


def test_dev_token_carries_the_platform_claims_and_verifies(data_dir):
    result = runner.invoke(
        app,
        ["dev", "token", "--role", "integrator", "--region", "330000", "--scope",
         "registry:subjects:push", "--org", "ZJ-AMR"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    verifier = TokenVerifier(
        jwt.decode(token, options={"verify_signature": False})["iss"],
        "shuangsui",
        jwks_path=str(data_dir / "dev-issuer" / "jwks.json"),
    )
    principal = verifier.verify(token)
    assert principal.roles == frozenset({"integrator"})
    assert principal.region_code == "330000"
    assert principal.scopes == frozenset({"registry:subjects:push"})
    assert principal.org_code == "ZJ-AMR"


def test_dev_token_refuses_a_region_that_is_not_gb_t_2260(data_dir):
    result = runner.invoke(app, ["dev", "token", "--role", "inspector", "--region", "999999"])
    assert result.exit_code == 2
    assert "999999" in result.output


def test_dev_token_for_an_enterprise_needs_its_uscc(data_dir):
    result = runner.invoke(app, ["dev", "token", "--role", "enterprise", "--region", "330106"])
    assert result.exit_code == 2
    assert "--uscc" in result.output
