"""`orderportal portal`: run the portal's HTTP API until interrupted."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts.databases import async_url
from contracts.serving import read_timeout_option, until_stopped
from portal.bootstrap import PortalServer
from portal.service_layer.retry import RetryPolicy


@click.command("portal")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option(
    "--db",
    "db_url",
    default="orderportal.db",
    show_default=True,
    envvar="ORDERPORTAL_DB",
    show_envvar=True,
    help="SQLite file or SQLAlchemy URL. From the environment, a database password stays out of the process list.",
)
@click.option("--public-url", help="Where suppliers reach this portal for webhooks (default: the listening URL).")
@click.option("--no-webhooks", is_flag=True, help="Follow statuses by polling only.")
@click.option(
    "--timeout",
    "timeout_s",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds for each attempt of a supplier call.",
)
@click.option(
    "--sync-interval",
    "sync_interval_s",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between the worker's rounds: deliver the outbox, poll statuses, fetch dispatches.",
)
@click.option(
    "--retry-deadline",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a supplier call may take with its retries.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the retries' jitter.")
@read_timeout_option
def portal(
    host: str,
    port: int,
    db_url: str,
    public_url: str | None,
    no_webhooks: bool,
    timeout_s: float,
    sync_interval_s: float,
    retry_deadline: float,
    seed: int,
    read_timeout_s: float,
) -> None:
    """Run the retailer portal's HTTP API, and its worker, until Ctrl-C."""
    retry = RetryPolicy(deadline_s=retry_deadline)
    server = PortalServer(
        db_url,
        host,
        port,
        timeout_s,
        not no_webhooks,
        public_url,
        sync_interval_s,
        retry=retry,
        seed=seed,
        read_timeout_s=read_timeout_s,
    )
    try:
        asyncio.run(_serve(server))
    except (OSError, SQLAlchemyError) as exc:
        shown = make_url(async_url(db_url)).render_as_string(hide_password=True)
        raise click.ClickException(f"cannot start the portal on {host}:{port} with --db {shown}: {exc}") from None


async def _serve(server: PortalServer) -> None:
    url = await server.start()
    click.echo(f"portal on {url}  (database {make_url(async_url(server.db_url)).render_as_string(hide_password=True)})")
    click.echo(f"  API: {url}/api/...  (document {url}/api/openapi.yaml)")
    click.echo(f"  dashboard: {url}/ui")
    hooks = server.portal.webhook_base_url
    click.echo(f"  webhooks: {hooks}/api/webhooks/{{customerNumberId}}" if hooks else "  webhooks off: polling only")
    await until_stopped(server.stop)
