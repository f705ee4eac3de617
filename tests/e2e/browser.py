"""What the browser tests share: Debian's Chromium, found by its path, and where screenshots go.

No browser is downloaded. Without one a browser test skips and says why, unless
ORDERPORTAL_REQUIRE_BROWSER=1 (as in .ci/run) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def chromium() -> str:
    """The browser's path: ORDERPORTAL_CHROMIUM, or Chromium from the OS packages."""
    found = os.environ.get("ORDERPORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("ORDERPORTAL_REQUIRE_BROWSER") == "1":
        pytest.fail("no Chromium found, and ORDERPORTAL_REQUIRE_BROWSER=1: install Debian's chromium package")
    pytest.skip("no Chromium found: install the OS package chromium (apt-get install chromium) to run browser tests")


def screenshots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots: ORDERPORTAL_SCREENSHOTS (such as docs) when set, else its tmp_path."""
    chosen = os.environ.get("ORDERPORTAL_SCREENSHOTS")
    if not chosen:
        return tmp_path
    directory = Path(chosen)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
