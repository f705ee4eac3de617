"""The `orderportal` command: the harness above both apps is where they are put together."""

from __future__ import annotations

import asyncio
import dataclasses

import click

from contracts.cli import contracts_group
from portal.entrypoints.serve import portal
from scenarios.certify.cli import certify
from scenarios.cli import scenarios_group
from scenarios.faultmatrix.cli import faults_group
from scenarios.load.cli import load
from scenarios.runner import bundled, run
from supplier_sim.cli import sim

WALK = "manual-walk"


@click.group()
@click.version_option(package_name="orderportal-harness")
def main() -> None:
    """Orderportal integration harness: the retailer portal, a supplier simulator and the contracts."""


@main.command()
@click.option("--seed", default=1, show_default=True, type=int)
def demo(seed: int) -> None:
    """Walk the whole Orderportal manual against an in-process simulator, one line a step."""
    walk = dataclasses.replace(next(s for s in bundled() if s.name == WALK), seed=seed)
    finished = asyncio.run(run(walk, lambda event: None, click.echo))
    failed = next((step for step in finished.steps if not step.ok), None)
    if failed is not None:
        raise click.ClickException(
            f"step {failed.index} {failed.action}: expected {failed.expected}, found {failed.found}"
        )


main.add_command(sim)
main.add_command(portal)
main.add_command(certify)
main.add_command(scenarios_group)
main.add_command(contracts_group)
main.add_command(faults_group)
main.add_command(load)

if __name__ == "__main__":
    main()
