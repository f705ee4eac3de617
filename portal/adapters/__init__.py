"""Adapters: persistence, the supplier client and the webhook verifier."""

from __future__ import annotations
