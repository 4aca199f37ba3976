#!/usr/bin/env python3
"""fuzz/run.py — runs refuzz.quick (fuzz/refuzz/quick.py says what it does)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refuzz import quick  # noqa: E402
from refuzz.util import run_main  # noqa: E402

sys.exit(run_main('fuzz', quick.main))
