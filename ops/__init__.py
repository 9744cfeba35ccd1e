"""Commands operations run against a deployed environment (AWS credentials for its account)."""

from __future__ import annotations

import sys
from pathlib import Path

# The shared package is the Lambda layer's; run from a checkout, it is this folder.
SHARED_PACKAGE_PATH = Path(__file__).resolve().parents[1] / "layers" / "shared" / "python"
if str(SHARED_PACKAGE_PATH) not in sys.path:
    sys.path.insert(0, str(SHARED_PACKAGE_PATH))
