"""The tables each service's code declares are the tables its migrations create: a fresh database
migrated to head matches the adapters' SQLAlchemy tables (and the messaging tables every service
database has) column for column. A new service is covered by having migrations."""

from importlib.util import find_spec
from pathlib import Path

import pytest

from shuangsui.kernel.schema_drift import declared_metadata, schema_drift

ROOT = Path(__file__).parents[1]
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/src/shuangsui/*/migrations"))
SHARED = ("shuangsui.messaging.tables", "shuangsui.kernel.idempotency")


def test_the_services_with_databases_are_found():
    assert {"registry", "planning"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_declared_tables_are_the_migrated_tables(service, fresh_database):
    adapters = f"shuangsui.{service}.adapters"
    modules = (adapters, *SHARED) if find_spec(adapters) else SHARED
    drift = await schema_drift(f"shuangsui.{service}", fresh_database, declared_metadata(*modules))
    assert not drift, "the code and the migrations disagree:\n" + "\n".join(drift)
