"""One function per user action of the manual, each through a unit of work."""

from __future__ import annotations
