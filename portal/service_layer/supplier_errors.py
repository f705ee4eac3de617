"""What can go wrong when the portal calls a supplier, each naming the endpoint and never a secret."""

from __future__ import annotations

from typing import Any

from contracts import Violation

API_ROOT = "/api/v1"  # what the client appends to a supplier's baseUrl
ROOT_URL = f"give the supplier's server root, such as http://host:port; the portal appends {API_ROOT} itself"


class SupplierError(Exception):
    """A supplier call that failed; the message names the endpoint and never a secret."""

    def __init__(self, endpoint: str, message: str, status: int | None = None) -> None:
        message = message.replace("\x00", "\\u0000")  # a supplier's NUL would fail to store on PostgreSQL
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.detail = message
        self.status = status


class SupplierUnreachable(SupplierError):
    """No answer: connection refused, an unknown host, or the timeout ran out."""


class WrongCredentials(SupplierError):
    """The supplier does not accept the credentials (401)."""


class CustomerNumberRefused(SupplierError):
    """The customer number is unknown, or these credentials do not reach it (403)."""


class ContractBroken(SupplierError):
    """An answer that breaks Supplier API v1; lists every failing field."""

    def __init__(self, endpoint: str, violations: list[Violation], status: int | None = None) -> None:
        listed = "; ".join(f"{v.pointer or '/'}: {v.message}" for v in violations)
        super().__init__(endpoint, f"the answer breaks the contract: {listed}", status)
        self.violations = violations


class SupplierRejected(SupplierError):
    """Any other 4xx or 5xx; carries the problem details the supplier sent."""

    def __init__(self, endpoint: str, problem: dict[str, Any], status: int) -> None:
        super().__init__(endpoint, f"{status} {problem['title']}: {problem['detail']}", status)
        self.problem = problem
