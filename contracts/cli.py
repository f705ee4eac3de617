"""`orderportal contracts`: list the schemas and validate a file against one."""

from __future__ import annotations

import json
import sys
from typing import TextIO

import click
import yaml

from contracts.business import business_errors
from contracts.loader import CONTRACT_VERSION, contracts


@click.group("contracts")
def contracts_group() -> None:
    """Supplier API v1 contracts (JSON Schema draft 2020-12)."""


@contracts_group.command("list")
def list_contracts() -> None:
    """Every schema's name and title."""
    loaded = contracts()
    click.echo(f"Supplier API contract {CONTRACT_VERSION}")
    for name in loaded.names:
        click.echo(f"  {name:<30} {loaded.schemas[name].get('title', '')}")


@contracts_group.command("validate")
@click.argument("name")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def validate(name: str, file: TextIO) -> None:
    """Validate FILE (JSON or YAML; - for standard input) against the schema NAME and its business rules.

    The rules are the simulator's own: on an order, quantity = containers x containerAmount on each line,
    line numbers unique, and a status history that starts NEW, moves legally and ends at the order's status.
    """
    loaded = contracts()
    if name not in loaded.schemas:
        raise click.UsageError(f"unknown contract {name!r}; `orderportal contracts list` shows them")
    text = file.read()
    try:
        instance = json.loads(text)
    except json.JSONDecodeError:
        try:
            instance = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise click.ClickException(f"{file.name}: neither JSON nor YAML: {exc}") from None
    # The business rules read fields the schema guarantees, so they run only on a schema-valid instance.
    errors = loaded.errors(name, instance) or business_errors(name, instance)
    if not errors:
        click.echo(f"{file.name}: valid {name}")
        return
    click.echo(f"{file.name}: {len(errors)} problem(s) against {name}:", err=True)
    for error in errors:
        click.echo(f"  {error.pointer or '/'}: {error.message}", err=True)
    sys.exit(1)
