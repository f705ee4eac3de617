"""`orderportal sim`: run the simulator until interrupted."""

from __future__ import annotations

import asyncio
import gc
import ipaddress

import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts import ContractViolation
from contracts.databases import async_url
from contracts.serving import read_timeout_option, until_stopped
from supplier_sim import workers as pool
from supplier_sim.catalog import CatalogError
from supplier_sim.config import SimConfig
from supplier_sim.profile import load_profile
from supplier_sim.server import SimServer


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option(
    "--db",
    "db_url",
    default="sqlite+aiosqlite://",
    show_default=True,
    envvar="ORDERPORTAL_SIM_DB",
    show_envvar=True,
    help="SQLAlchemy URL or SQLite file path; the default keeps state in memory. From the environment, a"
    " database password stays out of the process list.",
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Behaviour profile: a YAML file, or a bundled one by name (default, certification).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Serve from this many processes on one port, sharing the state in the PostgreSQL database --db names.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of every random choice.")
@click.option(
    "--clock",
    type=click.Choice(["real", "virtual"]),
    default="real",
    show_default=True,
    help="virtual: time moves only through POST /_sim/clock/advance.",
)
@click.option("--no-admin", is_flag=True, help="Do not serve the admin API under /_sim/.")
@click.option(
    "--admin-token",
    envvar="ORDERPORTAL_SIM_ADMIN_TOKEN",
    show_envvar=True,
    help="Require this X-Admin-Token on /_sim/.",
)
@read_timeout_option
@click.option(
    "--public-admin",
    is_flag=True,
    help="Serve the admin API without a token on a host other than loopback (anyone who reaches it controls it).",
)
def sim(
    host: str,
    port: int,
    db_url: str,
    profile_path: str | None,
    workers: int | None,
    seed: int,
    clock: str,
    no_admin: bool,
    admin_token: str | None,
    read_timeout_s: float,
    public_admin: bool,
) -> None:
    """Run the supplier simulator (Supplier API v1) until Ctrl-C."""
    if not no_admin and not admin_token and not public_admin and not _loopback(host):
        raise click.UsageError(
            f"--host {host} serves the admin API /_sim/ beyond this machine, and without --admin-token anyone who"
            " reaches it can reset the simulator and read customers' credentials: give --admin-token, --no-admin,"
            " or --public-admin to serve it openly anyway"
        )
    if workers is not None and make_url(async_url(db_url)).get_backend_name() != "postgresql":
        raise click.BadParameter(
            "--workers shares the simulator's state between processes in PostgreSQL: give --db postgresql://...",
            param_hint="--db",
        )
    try:
        profile = load_profile(profile_path)
    except (OSError, ValueError, ContractViolation) as exc:
        raise click.ClickException(f"cannot use the profile: {exc}") from None
    config = SimConfig(
        profile=profile,
        seed=seed,
        clock=clock,
        db_url=db_url,
        admin=not no_admin,
        admin_token=admin_token,
        shared=workers is not None,
    )
    try:
        if workers is None:
            asyncio.run(_serve(SimServer(config, host, port, read_timeout_s)))
        else:
            _serve_workers(config, host, port, workers, read_timeout_s)
    except pool.WorkersFailed as exc:
        raise click.ClickException(f"the simulator's workers did not start: {exc}") from None
    except CatalogError as exc:
        raise click.ClickException(f"cannot load the catalog {profile.catalog_file or ''}: {exc}") from None
    except (OSError, SQLAlchemyError) as exc:
        raise click.ClickException(
            f"cannot start the simulator on {host}:{port} with --db {_shown(db_url)}: {exc}"
        ) from None


def _loopback(host: str) -> bool:
    """Whether the address is reachable from this machine alone; a name other than localhost may be anything."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_workers(config: SimConfig, host: str, port: int, count: int, read_timeout_s: float) -> None:
    reserved = pool.reserve(host, port)
    port = reserved.getsockname()[1]
    url = f"http://{host}:{port}"

    def ready(pids: list[int]) -> None:
        _banner(url, config)
        click.echo(f"  {count} workers sharing {_shown(config.db_url)}: pids {' '.join(map(str, pids))}")

    try:
        pool.run(config, (host, port), count, read_timeout_s, ready, click.echo)
    finally:
        reserved.close()
    click.echo("stopped")


def _shown(db_url: str) -> str:
    return make_url(async_url(db_url)).render_as_string(hide_password=True)


async def _serve(server: SimServer) -> None:
    url = await server.start()
    # The catalog and the libraries are loaded for good: keep them out of every later
    # full collection, which would otherwise pause the server for tens of milliseconds.
    gc.freeze()
    _banner(url, server.config)
    await until_stopped(server.stop)


def _banner(url: str, config: SimConfig) -> None:
    click.echo(
        f"supplier simulator on {url}  (clock {config.clock}, seed {config.seed}, profile {config.profile.name})"
    )
    click.echo(f"  Supplier API v1: {url}/api/v1/customers/{{customerNumber}}/...")
    if config.admin:
        click.echo(f"  admin API:       {url}/_sim/{{clock,reset,journal,faults,customers,orders,...}}")
        click.echo(f"  dashboard:       {url}/_sim/ui")
    click.echo("demo customers:")
    for c in config.profile.customers:
        credential = (
            f"X-Api-Key {c.api_key}" if c.auth == "api-key" else f"username {c.username}  password {c.password}"
        )
        blocked = "  (blocked)" if c.blocked else ""
        click.echo(f"  {c.number}  {c.auth:<8} {credential}{blocked}")
