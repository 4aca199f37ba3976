#!/usr/bin/env python3
"""fuzz/corpus-merge.py — runs refuzz.merge (fuzz/refuzz/merge.py says what it does)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refuzz import merge  # noqa: E402
from refuzz.util import run_main  # noqa: E402

sys.exit(run_main('corpus-merge', merge.main))
