"""Entry points: the CLI and, later, the portal's HTTP API."""

from __future__ import annotations
