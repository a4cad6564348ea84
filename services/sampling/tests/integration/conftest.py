"""Sampling's integration tests: real PostgreSQL and NATS (fixtures in ../conftest.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # for `draw_api_testkit`
