"""Sampling's integration tests: real PostgreSQL and NATS (fixtures in ../conftest.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `draw_api_testkit`

from draw_api_testkit import sampling_in_test_mode


@pytest.fixture
async def sampling(service_client):
    """Sampling's API in test mode (the `fixed` beacon allowed), as most draw tests drive it."""
    return await sampling_in_test_mode(service_client)
