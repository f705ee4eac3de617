"""`orderportal certify`: the vendor-facing certification suite for any Supplier API v1 server."""

from __future__ import annotations
