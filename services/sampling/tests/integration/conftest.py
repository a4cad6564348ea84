"""Sampling's integration tests: real PostgreSQL and NATS (fixtures in ../conftest.py)."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `draw_api_testkit`

from draw_api_testkit import model_current_to

from shuangsui.sampling.domain.subjects import SUBJECTS


@pytest.fixture
async def current_model(new_uow, sampling_rows):
    """The subjects read model current now, as a prepare requires; forgotten afterwards."""
    await model_current_to(new_uow, datetime.now(UTC))
    yield
    await sampling_rows("DELETE FROM read_models WHERE model = $1 RETURNING model", SUBJECTS)
