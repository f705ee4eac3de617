"""The fault matrix: each fault type against each flow, with the outcome the portal shows the user."""

from __future__ import annotations
