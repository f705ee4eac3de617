"""Declarative end-to-end scenarios, the stateful model and the certification suite."""

from __future__ import annotations
