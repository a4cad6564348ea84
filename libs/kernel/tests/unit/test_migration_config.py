"""Migrations run against the service's own DATABASE_URL; without one they stop and say so."""

import pytest

from shuangsui.kernel.migrations import alembic_config


def test_migrating_without_database_url_stops_naming_it(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(SystemExit) as stopped:
        alembic_config("shuangsui.registry")

    assert "DATABASE_URL" in str(stopped.value)


def test_database_url_from_the_environment_is_used_through_asyncpg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://registry:secret@127.0.0.1:5432/registry")

    config = alembic_config("shuangsui.registry")

    assert (
        config.get_main_option("sqlalchemy.url")
        == "postgresql+asyncpg://registry:secret@127.0.0.1:5432/registry"
    )


def test_percent_encoded_password_reaches_the_driver_unchanged():
    config = alembic_config(
        "shuangsui.registry", "postgresql://registry:p%40ss%25@db:5432/registry"
    )

    assert config.get_main_option("sqlalchemy.url") == (
        "postgresql+asyncpg://registry:p%40ss%25@db:5432/registry"
    )


def test_migrations_are_found_inside_the_service_package():
    config = alembic_config("shuangsui.registry", "postgresql://registry:secret@db/registry")

    assert config.get_main_option("script_location") == "shuangsui.registry:migrations"
