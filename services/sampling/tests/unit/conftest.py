"""Sampling's unit tests: pure domain, no database or broker."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # for `draw_testkit`
