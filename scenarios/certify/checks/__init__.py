"""The certification checks of Supplier API v1: importing the families registers them in the order they run."""

from __future__ import annotations

# The order of these imports is the run order and the report order, and later checks use what earlier ones found.
# isort: off
from scenarios.certify.checks import auth  # noqa: F401
from scenarios.certify.checks import catalog  # noqa: F401
from scenarios.certify.checks import orders  # noqa: F401
from scenarios.certify.checks import lifecycle  # noqa: F401
from scenarios.certify.checks import webhooks  # noqa: F401
from scenarios.certify.checks import answers  # noqa: F401
# isort: on
