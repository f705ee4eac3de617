"""Who is calling: one authentication method per customer, and tokens on the simulator's clock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from multidict import CIMultiDictProxy

from contracts.wire import basic_authorization, later
from supplier_sim.clock import Clock
from supplier_sim.problems import Problem
from supplier_sim.profile import Customer, Profile

WRONG_PASSWORD = "wrong username or password"
UNKNOWN_KEY = "the API key is not known"
UNKNOWN_TOKEN = "the bearer token is not known"
NOT_YOURS = "these credentials do not grant access to this customer number"


@dataclass(frozen=True, slots=True)
class Token:
    customer: Customer
    expires_ms: int


def wrong_credentials(headers: Mapping[str, str]) -> Problem:
    """The 401 that a wrong credential of the kind these headers carry gets."""
    if "X-Api-Key" in headers:
        return Problem.unauthorized(UNKNOWN_KEY, scheme="ApiKey")
    if headers.get("Authorization", "").partition(" ")[0].lower() == "bearer":
        return Problem.unauthorized(UNKNOWN_TOKEN, scheme="Bearer")
    return Problem.unauthorized(WRONG_PASSWORD, scheme="Basic")


def token_hash(token: str) -> str:
    """Tokens are kept hashed, so that neither the database nor a dump shows one."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class Authenticator:
    def __init__(self, profile: Profile, clock: Clock) -> None:
        self.clock = clock
        self.lifetime_ms = profile.token_lifetime_ms
        self.tokens: dict[str, Token] = {}
        self.know(profile.customers)

    def know(self, customers: tuple[Customer, ...]) -> None:
        """Take these customers' credentials from now on; the tokens issued so far stay valid."""
        self.customers = {c.number: c for c in customers}
        # The exact header value a basic customer sends, so the hot path is one dict look-up.
        self._basic = {
            basic_authorization(c.username or "", c.password or ""): c for c in customers if c.auth == "basic"
        }
        self._api_keys = {c.api_key: c for c in customers if c.auth == "api-key" and c.api_key}
        self._token_users = {c.username: c for c in customers if c.auth == "token"}

    def expire_tokens(self) -> int:
        """Forget every token issued so far; how many there were."""
        count = len(self.tokens)
        self.tokens.clear()
        return count

    def identify(self, headers: CIMultiDictProxy[str]) -> Customer:
        """The customer whose credential the request carries; 401 otherwise."""
        api_key = headers.get("X-Api-Key")
        if api_key is not None:
            customer = self._api_keys.get(api_key)
            if customer is None:
                raise Problem.unauthorized(UNKNOWN_KEY, scheme="ApiKey")
            return customer
        authorization = headers.get("Authorization")
        if authorization is None:
            raise Problem.unauthorized("credentials are required: HTTP Basic, a bearer token or X-Api-Key")
        customer = self._basic.get(authorization)
        if customer is not None:
            return customer
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return self._bearer(value.strip())
        if scheme.lower() == "basic":
            customer = self._basic.get("Basic " + value.strip())  # the scheme is case-insensitive
            if customer is not None:
                return customer
            raise Problem.unauthorized(WRONG_PASSWORD, scheme="Basic")
        # Never echo the header: without a scheme it may be a bare password.
        raise Problem.unauthorized("the Authorization header must use the Basic or Bearer scheme")

    def _bearer(self, token: str) -> Customer:
        found = self.tokens.get(token_hash(token))
        if found is None:
            raise Problem.unauthorized(UNKNOWN_TOKEN, scheme="Bearer")
        if self.clock.now_ms() >= found.expires_ms:
            raise Problem.unauthorized("the bearer token has expired; get a new one from /api/v1/auth", scheme="Bearer")
        return found.customer

    def authorize(self, headers: CIMultiDictProxy[str], customer_number: str) -> Customer:
        """The calling customer, who must own ``customer_number``; 403 and no data otherwise."""
        customer = self.identify(headers)
        if customer.number != customer_number:
            raise Problem.forbidden(NOT_YOURS)
        return customer

    def login(self, username: str, password: str) -> tuple[str, Token]:
        """A new token for a token customer's username and password; 401 on any mismatch."""
        customer = self._token_users.get(username)
        expected = customer.password if customer else ""
        given = password.encode("utf-8", "surrogateescape")
        if customer is None or not hmac.compare_digest((expected or "").encode(), given):
            raise Problem.unauthorized(WRONG_PASSWORD, scheme="Bearer")
        # Token values are credentials, not behaviour: they come from the OS, not the run's seed.
        token = secrets.token_urlsafe(32)
        issued = Token(customer, later(self.clock.now_ms(), self.lifetime_ms))
        self.tokens[token_hash(token)] = issued
        return token, issued
