"""The options that name a supplier's server and a customer's login there: one set for every command that calls one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from scenarios.certify.recorder import Credentials

F = TypeVar("F", bound=Callable[..., Any])


def supplier_options(envvar_prefix: str) -> Callable[[F], F]:
    """--supplier-url, --customer-number, --auth and its secrets, which also come from <prefix>_PASSWORD, _API_KEY."""
    password, api_key = f"{envvar_prefix}_PASSWORD", f"{envvar_prefix}_API_KEY"
    options = [
        click.option("--supplier-url", help="Base URL of the server under test (Supplier API v1 below /api/v1)."),
        click.option("--customer-number", help="The customer number these credentials belong to."),
        click.option("--auth", "method", type=click.Choice(["token", "basic", "api-key"])),
        click.option("--username", help="For basic and token."),
        click.option("--password", envvar=password, help=f"For basic and token (or {password})."),
        click.option("--api-key", envvar=api_key, help=f"For api-key (or {api_key})."),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def supplier_login(
    command: str,
    supplier_url: str | None,
    customer_number: str | None,
    method: str | None,
    username: str | None,
    password: str | None,
    api_key: str | None,
) -> tuple[str, str, Credentials]:
    """The URL, customer and credentials the options give, or a usage error naming what is missing or wrong."""
    given = (("--supplier-url", supplier_url), ("--customer-number", customer_number), ("--auth", method))
    missing = [name for name, value in given if not value]
    if missing:
        raise click.UsageError(f"{command} needs {', '.join(missing)}")
    assert supplier_url and customer_number and method
    if method == "api-key" and not api_key:
        raise click.UsageError("--auth api-key needs --api-key")
    if method != "api-key" and not (username and password):
        raise click.UsageError(f"--auth {method} needs --username and --password")
    parts = urlsplit(supplier_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.UsageError(f"--supplier-url must be an http:// or https:// URL with a host, not {supplier_url!r}")
    if parts.username or parts.password:
        raise click.UsageError("--supplier-url must not carry credentials: give them with --auth and its options")
    return supplier_url, customer_number, Credentials(method, username, password, api_key)
