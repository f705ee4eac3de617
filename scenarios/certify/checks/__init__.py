"""The certification checks of Supplier API v1: importing the families registers them and their fixtures.

The order of the imports is the report's order; no check depends on another having run.
"""

from __future__ import annotations

# isort: off
from scenarios.certify import fixtures  # noqa: F401
from scenarios.certify.checks import auth  # noqa: F401
from scenarios.certify.checks import catalog  # noqa: F401
from scenarios.certify.checks import orders  # noqa: F401
from scenarios.certify.checks import listing  # noqa: F401
from scenarios.certify.checks import lifecycle  # noqa: F401
from scenarios.certify.checks import webhooks  # noqa: F401
from scenarios.certify.checks import answers  # noqa: F401
# isort: on
