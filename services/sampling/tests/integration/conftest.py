"""Sampling's integration tests: real PostgreSQL and NATS (fixtures in ../conftest.py)."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `draw_api_testkit`

from draw_api_testkit import model_current_to

from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.sampling.domain.subjects import SUBJECTS


@pytest.fixture
async def current_model(new_uow, sampling_rows):
    """The subjects read model current now, as a prepare requires; forgotten afterwards."""
    await model_current_to(new_uow, datetime.now(UTC))
    yield
    await sampling_rows("DELETE FROM read_models WHERE model = $1 RETURNING model", SUBJECTS)


@pytest.fixture
def messaging_uow(sampling_database):
    """Units of work that write sampling's outbox, as the worker's do."""
    return lambda: new_unit_of_work(sampling_database, "p33", "sampling")
