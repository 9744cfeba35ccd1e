"""The local embedded stack: the pipeline on moto in server mode on loopback, no AWS account.

`make demo` runs `demo.py` (end to end, then exits); `make local` runs `serve.py` (keeps running).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_PACKAGE_PATH = ROOT / "layers" / "shared" / "python"

# In Lambda the shared layer is mounted at /opt/python; locally it is this folder.
if str(SHARED_PACKAGE_PATH) not in sys.path:
    sys.path.insert(0, str(SHARED_PACKAGE_PATH))
