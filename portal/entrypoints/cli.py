"""The `orderportal` command."""

from __future__ import annotations

import asyncio

import click

from contracts.cli import contracts_group
from supplier_sim.cli import sim


@click.group()
@click.version_option(package_name="orderportal-harness")
def main() -> None:
    """Orderportal integration harness: a supplier simulator, contracts, and (soon) the portal."""


@main.command()
@click.option("--seed", default=1, show_default=True, type=int)
def demo(seed: int) -> None:
    """Start a simulator in-process, place an order and follow it to the end."""
    from supplier_sim.demo import run

    asyncio.run(run(click.echo, seed))


main.add_command(sim)
main.add_command(contracts_group)

if __name__ == "__main__":
    main()
