#!/usr/bin/env python3
"""fuzz/seeds.py — runs refuzz.seeds (fuzz/refuzz/seeds.py says what it does)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refuzz import seeds  # noqa: E402
from refuzz.util import run_main  # noqa: E402

sys.exit(run_main('seeds', seeds.main))
