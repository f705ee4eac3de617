"""`orderportal certify`: point the suite at a supplier's server and get a report to show."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scenarios.certify import certificate
from scenarios.certify.progress import LiveProgress
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials
from scenarios.certify.registry import REGISTRY, Check, Target, select
from scenarios.certify.reports import Collector, console, write_all
from scenarios.certify.rules import rule_catalogue
from scenarios.certify.runner import Handler, RunFinished, load_plugins
from scenarios.certify.runner import certify as run_certification
from scenarios.supplier_options import supplier_login, supplier_options
from supplier_sim.profile import seconds


def _selectors(values: tuple[str, ...]) -> list[str]:
    """``--checks AUTH,ORDER-0 --checks LIST-01`` as one list."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _plugins() -> None:
    try:
        load_plugins()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("certify", invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@supplier_options("ORDERPORTAL_CERTIFY")
@click.option("--other-customer-number", help="Another customer's number, which these credentials must not reach.")
@click.option(
    "--wait",
    "wait",
    default="10m",
    show_default=True,
    help="How long the run waits, in all, for its orders to settle, ship and raise events.",
)
@click.option("--poll", "poll", default="5s", show_default=True, help="How often to read the status while waiting.")
@click.option(
    "--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("certification"), show_default=True
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of every choice the suite makes.")
@click.option(
    "--webhook-listen", help="HOST:PORT for the suite's webhook receiver; without it the webhook check is skipped."
)
@click.option(
    "--webhook-url", help="The receiver's URL as the server reaches it (default: http://HOST:PORT/certify-webhook)."
)
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, help="Seconds for each request.")
@click.option(
    "--checks",
    "include",
    multiple=True,
    help="Run only these checks: ids or their starts, comma-separated (AUTH,ORDER-0). A partial run certifies nothing.",
)
@click.option("--exclude-checks", "exclude", multiple=True, help="Leave these checks out: ids or their starts.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict and the reports' paths.")
@click.option(
    "--signing-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM PKCS8 Ed25519 private key that signs certification.json (default: a key made for the run).",
)
@click.pass_context
def certify(
    click_context: click.Context,
    supplier_url: str | None,
    customer_number: str | None,
    method: str | None,
    username: str | None,
    password: str | None,
    api_key: str | None,
    other_customer_number: str | None,
    wait: str,
    poll: str,
    report_dir: Path,
    seed: int,
    webhook_listen: str | None,
    webhook_url: str | None,
    timeout_s: float,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    quiet: bool,
    signing_key: Path | None,
) -> None:
    """Certify a supplier's Supplier API v1 server; exit 0 only when every mandatory check passes.

    `orderportal certify list-checks` lists the checks and the contract rules each one checks;
    `verify` checks a written certification.json; `keygen` makes a signing key.
    """
    if click_context.invoked_subcommand is not None:
        return
    supplier_url, customer_number, credentials = supplier_login(
        "certify", supplier_url, customer_number, method, username, password, api_key
    )
    key = _signing_key(signing_key)
    _plugins()
    try:
        chosen = select(REGISTRY, _selectors(include), _selectors(exclude))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not chosen:
        raise click.UsageError("the selection leaves no check to run")
    try:
        wait_s = seconds(wait)
    except ValueError as exc:
        raise click.UsageError(f"--wait {wait}: {exc}") from None
    try:
        poll_s = seconds(poll)
    except ValueError as exc:
        raise click.UsageError(f"--poll {poll}: {exc}") from None
    # The run id keeps this run's Idempotency-Keys apart from any earlier run's at the same server.
    target = Target(
        supplier_url, customer_number, other_customer_number, wait_s, poll_s, seed, f"{seed}-{secrets.token_hex(3)}"
    )
    receiver = None
    if webhook_listen:
        host, _, port = webhook_listen.rpartition(":")
        if not host or not port.isdigit():
            raise click.UsageError(f"--webhook-listen must be HOST:PORT, not {webhook_listen!r}")
        receiver = Receiver(host, int(port), webhook_url)
    collector = Collector()
    if wait_s < 2 * poll_s:
        click.echo(f"warning: --wait {wait} leaves room for fewer than two reads every --poll {poll}", err=True)
    live = sys.stdout.isatty() and not quiet  # a log or a pipe gets plain lines, a terminal a live bar
    with LiveProgress() if live else contextlib.nullcontext() as bar:
        shown = bar if bar is not None else console(click.echo, quiet)
        finished = asyncio.run(_certify(target, credentials, [shown, collector], timeout_s, receiver, chosen))
    for path in write_all(collector.document(), report_dir, key):
        click.echo(f"report: {path}")
    sys.exit(0 if finished.ok else 1)  # a partial run that passed exits 0, and its reports say it certifies nothing


def _signing_key(path: Path | None) -> Ed25519PrivateKey | None:
    """The key from --signing-key, read before the run so that a wrong one costs no wait."""
    if path is None:
        return None
    try:
        return certificate.load_private(path)
    except ValueError as exc:
        raise click.UsageError(f"--signing-key {click.format_filename(path)}: {exc}") from None


async def _certify(
    target: Target,
    credentials: Credentials,
    handlers: list[Handler],
    timeout_s: float,
    receiver: Receiver | None,
    chosen: list[Check],
) -> RunFinished:
    if receiver is not None:
        target.webhook_url = await receiver.start()
    try:
        return await run_certification(
            target, credentials, handlers, timeout_s=timeout_s, receiver=receiver, checks=chosen
        )
    finally:
        if receiver is not None:
            await receiver.stop()


@certify.command("list-checks")
def list_checks() -> None:
    """Every check: its id, severity, title, the fixtures it needs and the contract rules it checks."""
    _plugins()
    for registered in REGISTRY:
        click.echo(f"{registered.id:<12} {registered.severity:<9} {registered.title}")
        if registered.needs:
            click.echo(f"{'':<22} needs: {', '.join(registered.needs)}")
        if registered.rules:
            click.echo(f"{'':<22} rules: {', '.join(registered.rules)}")
        if registered.origin and not registered.origin.startswith("scenarios.certify."):
            click.echo(f"{'':<22} from:  {registered.origin}")
    checked = {rule for c in REGISTRY for rule in c.rules}
    unchecked = [r for r in rule_catalogue() if r["id"] not in checked]
    click.echo(f"{len(REGISTRY)} checks of {len(rule_catalogue())} rules; not checkable from outside:")
    for rule in unchecked:
        click.echo(f"  {rule['id']:<12} {rule.get('notCheckable', 'NOT CHECKED by any check')}")


class NotACertificate(click.ClickException):
    exit_code = 2


@certify.command("verify")
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM Ed25519 public key the report must be signed by (without it: any key, integrity only).",
)
def verify(report: Path, public_key: Path | None) -> None:
    """Recompute a certification.json's digests and check its signature; exit 1 naming what does not match."""
    expected = None
    if public_key is not None:
        try:
            expected = certificate.load_public(public_key)
        except ValueError as exc:
            raise click.UsageError(f"--public-key {click.format_filename(public_key)}: {exc}") from None
    name = click.format_filename(report)
    try:
        document = certificate.parse(report.read_text("utf-8"))
        problems = certificate.verify(document, expected)
    except OSError as exc:
        raise NotACertificate(f"{name} cannot be read: {exc.strerror}") from None
    except (UnicodeError, ValueError) as exc:  # NotACertificate, and numbers or text no certificate holds
        raise NotACertificate(f"{name} is not a certificate: {printable(str(exc))[:200]}") from None
    except RecursionError:
        raise NotACertificate(f"{name} is not a certificate: nested too deep") from None
    if problems:
        click.echo(f"{name} does NOT verify; what does not match:", err=True)
        for problem in problems:
            click.echo(f"  - {printable(problem)}", err=True)
        sys.exit(1)
    signer = certificate.short(document["signature"]["keyFingerprint"])
    click.echo(f"{name} is intact: signed by key fingerprint {signer}, digest {document['signature']['digest']}")
    if expected is None:
        click.echo(
            "it is as the holder of that key signed it; without --public-key that key may be anyone's, even one "
            "made by whoever edited the report: only a key you already know proves who signed it"
        )


def printable(text: str) -> str:
    """Text from a file for the terminal: control characters shown escaped, never acted on."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@certify.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The private key's file.")
def keygen(out: Path) -> None:
    """Make an Ed25519 signing key: the private key to --out (mode 0600), its public PEM to stdout."""
    key = Ed25519PrivateKey.generate()
    try:
        # Created with 0600 from the start, never widened later; an existing key is not overwritten.
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.UsageError(f"--out {click.format_filename(out)} exists; it is not overwritten") from None
    except OSError as exc:
        raise click.UsageError(f"--out {click.format_filename(out)}: {exc.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(certificate.private_pem(key))
    public = key.public_key()
    # The public PEM alone on stdout, so that `keygen --out key.pem > key.pub` saves it for verify.
    click.echo(f"private key: {click.format_filename(out)} (keep it; give it to certify with --signing-key)", err=True)
    fingerprint = certificate.fingerprint(public)
    click.echo(f"fingerprint: {certificate.short(fingerprint)} ({fingerprint})", err=True)
    click.echo(certificate.public_pem(public), nl=False)
