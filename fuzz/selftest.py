#!/usr/bin/env python3
"""fuzz/selftest.py — runs refuzz.selftest (fuzz/refuzz/selftest.py says what it does)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refuzz import selftest  # noqa: E402
from refuzz.util import run_main  # noqa: E402

sys.exit(run_main('fuzz-selftest', selftest.main))
