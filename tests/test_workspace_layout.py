"""The workspace keeps the shape ARCHITECTURE.md §2 promises (with ADR 0001's migrations)."""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
MEMBERS = sorted([*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")])
SERVICES_WITH_DATABASE = ["registry", "planning", "sampling", "inspection", "disclosure"]


@pytest.mark.parametrize("pyproject", MEMBERS, ids=lambda p: p.parent.name)
def test_every_member_is_its_own_distribution_in_the_shared_namespace(pyproject):
    member = pyproject.parent
    name = tomllib.loads(pyproject.read_text())["project"]["name"]
    assert name == f"shuangsui-{member.name}"
    assert not (member / "src" / "shuangsui" / "__init__.py").exists(), (
        "a shuangsui/__init__.py would stop the other members from importing"
    )
    assert (member / "src" / "shuangsui" / member.name / "__init__.py").exists()


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_every_service_starts_its_history_with_the_messaging_tables(service):
    package = ROOT / "services" / service / "src" / "shuangsui" / service
    first = package / "migrations" / "versions" / "0001_messaging.py"
    tree = ast.parse(first.read_text())
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "create_messaging_tables_v1" in calls
    assert (package / "migrations" / "env.py").exists()
    assert "create_app" in (package / "main.py").read_text()


def test_the_lock_file_is_committed_and_covers_every_member():
    lock = (ROOT / "uv.lock").read_text()
    for pyproject in MEMBERS:
        assert f'name = "shuangsui-{pyproject.parent.name}"' in lock
