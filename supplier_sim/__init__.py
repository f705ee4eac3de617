"""A stateful supplier that serves Supplier API v1; it never imports the portal."""

from __future__ import annotations

from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer

__all__ = ["SimConfig", "SimServer"]
