#!/usr/bin/env python3
"""fuzz/triage.py — runs refuzz.triage (fuzz/refuzz/triage.py says what it does)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refuzz import triage  # noqa: E402
from refuzz.util import run_main  # noqa: E402

sys.exit(run_main('triage', triage.main))
