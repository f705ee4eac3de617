"""Where the harness keeps what it learns between runs: the XDG cache folder, never the folder a user stands in."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_DEFAULT = "$XDG_CACHE_HOME/orderportal/hypothesis, or ~/.cache/orderportal/hypothesis"


def default_cache_dir() -> Path:
    """Where hypothesis keeps its examples unless told otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "orderportal" / "hypothesis"
