"""The portal's domain: plain Python, the rules of the Orderportal manual."""

from __future__ import annotations
