"""The retailer's order portal core: domain, services, persistence, supplier client, HTTP API."""

from __future__ import annotations
