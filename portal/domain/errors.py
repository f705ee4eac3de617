"""What can go wrong in the domain, each naming the problem."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the manual forbids this action; nothing changed."""

    status = 409
    kind = "rule-broken"
    field: str | None = None

    def __init__(self, message: str, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.status = status or self.status


class NotFound(DomainError):
    status = 404
    kind = "not-found"


class InvalidInput(DomainError):
    status = 422
    kind = "validation-error"


class IllegalState(DomainError):
    kind = "illegal-state"


class NotSendable(DomainError):
    kind = "not-sendable"


class CouplingFailed(DomainError):
    status = 502
    kind = "coupling-failed"


class SupplierProblem(DomainError):
    status = 502
    kind = "supplier-problem"


class Unauthorized(DomainError):
    status = 401
    kind = "unauthorized"


class Duplicate(Exception):
    """A uniqueness rule of the storage was broken: what an action adds exists already, or a race was lost.

    Not a DomainError: a service that expects one catches it, and anywhere else it ends the action as
    a 409 conflict, the way the database's own error did before the unit of work translated it.
    """
