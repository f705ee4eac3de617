"""The portal's routes, one module per resource, each a ROUTES table of named routes."""

from __future__ import annotations
