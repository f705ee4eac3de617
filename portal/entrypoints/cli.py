"""The `orderportal` command."""

from __future__ import annotations

import asyncio

import click

from contracts.cli import contracts_group
from portal.entrypoints.serve import portal
from scenarios.certify.cli import certify
from scenarios.cli import scenarios_group
from scenarios.faultmatrix.cli import faults_group
from supplier_sim.cli import sim


@click.group()
@click.version_option(package_name="orderportal-harness")
def main() -> None:
    """Orderportal integration harness: the retailer portal, a supplier simulator and the contracts."""


@main.command()
@click.option("--seed", default=1, show_default=True, type=int)
def demo(seed: int) -> None:
    """Walk the whole Orderportal manual against an in-process simulator, one line a step."""
    from portal.entrypoints.demo import DemoFailed, run

    try:
        asyncio.run(run(click.echo, seed))
    except DemoFailed as exc:
        raise click.ClickException(str(exc)) from None


main.add_command(sim)
main.add_command(portal)
main.add_command(certify)
main.add_command(scenarios_group)
main.add_command(contracts_group)
main.add_command(faults_group)

if __name__ == "__main__":
    main()
