"""Benchmarks: `.venv/bin/python -m bench.run` (or `make bench`) prints medians of every measurement."""

import sys
from pathlib import Path

# The shared layer's import root, as in the Lambda runtime (pytest gets it from pyproject.toml).
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "shared" / "python")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
