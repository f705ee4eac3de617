"""Setting up: org units, warehouses, suppliers and their customer numbers, and coupling."""

from __future__ import annotations

import logging
import secrets
from typing import TypeVar

from yarl import URL

from portal.domain.errors import CouplingFailed, Duplicate, IllegalState, InvalidInput
from portal.domain.setup import AuthMethod, Credentials, CustomerNumber, OrderInterface, OrgUnit, Supplier, Warehouse
from portal.service_layer import common
from portal.service_layer.context import Portal, SupplierApi
from portal.service_layer.supplier_errors import (
    API_ROOT,
    ROOT_URL,
    ContractBroken,
    CustomerNumberRefused,
    SupplierError,
    SupplierUnreachable,
    WrongCredentials,
)
from portal.service_layer.unit_of_work import Repository, UnitOfWork

log = logging.getLogger("portal.setup")
T = TypeVar("T")


async def _add_unique(uow: UnitOfWork, repository: Repository[T], entity: T, what: str) -> None:
    repository.add(entity)
    try:
        await uow.commit()
    except Duplicate:
        raise IllegalState(f"{what} exists already") from None


async def create_org_unit(portal: Portal, code: str, name: str) -> OrgUnit:
    async with portal.uow() as uow:
        unit = OrgUnit(code, name)
        await _add_unique(uow, uow.org_units, unit, "an org unit with this code")
        return unit


async def create_warehouse(portal: Portal, code: str, name: str, org_unit_id: int) -> Warehouse:
    async with portal.uow() as uow:
        await uow.org_units.get(org_unit_id)
        warehouse = Warehouse(code, name, org_unit_id)
        await _add_unique(uow, uow.warehouses, warehouse, "a warehouse with this code")
        return warehouse


def _check_base_url(base_url: str | None) -> None:
    """An http(s) URL with an ASCII host and nothing the client would have to guess at; never echoed."""
    if base_url is None:
        return
    if why := _base_url_fault(base_url):
        raise InvalidInput(f"the baseUrl {why}", field="/baseUrl")
    if URL(base_url).raw_path.rstrip("/").endswith(API_ROOT):
        # The form is fine, which is why the schema lets it pass; a person copied the API's URL.
        raise InvalidInput(f"the baseUrl must not end in {API_ROOT}: {ROOT_URL}", field="/baseUrl")


def _base_url_fault(base_url: str) -> str | None:
    # Checked on the text, before yarl would quote or IDNA-encode it: what is stored is what is called.
    if not base_url.isascii():
        return "must be ASCII: write a non-ASCII host in its IDNA form (xn--...)"
    if any(c.isspace() or not c.isprintable() for c in base_url):
        return "must not contain white space or control characters"
    try:
        url = URL(base_url)
        usable = url.scheme in ("http", "https") and bool(url.host) and url.port is not None and 0 < url.port < 65536
    except ValueError:
        usable = False
    if not usable:
        return "must be an http(s) URL with a host"
    if url.raw_user is not None or url.raw_password is not None or "@" in base_url.split("/")[2]:
        return "must not carry a user or password: give the credentials to the customer number"
    if url.raw_query_string or url.raw_fragment or "?" in base_url or "#" in base_url:
        return "must not have a query or a fragment: the API paths are appended to it"
    return None


async def create_supplier(
    portal: Portal, name: str, order_interface: OrderInterface, base_url: str | None, tax_sector: str
) -> Supplier:
    _check_base_url(base_url)
    if order_interface is OrderInterface.ORDERPORTAL and not base_url:
        raise InvalidInput("an ORDERPORTAL supplier needs its baseUrl", field="/baseUrl")
    async with portal.uow() as uow:
        supplier = Supplier(name, order_interface, base_url, tax_sector)
        await _add_unique(uow, uow.suppliers, supplier, "a supplier with this name")
        return supplier


async def set_order_interface(
    portal: Portal, supplier_id: int, interface: OrderInterface, base_url: str | None
) -> Supplier:
    _check_base_url(base_url)
    async with portal.uow() as uow:
        supplier = await uow.suppliers.get(supplier_id, lock=True)
        if interface is OrderInterface.ORDERPORTAL and not (base_url or supplier.base_url):
            raise InvalidInput("an ORDERPORTAL supplier needs its baseUrl", field="/baseUrl")
        supplier.order_interface, supplier.base_url = interface, base_url or supplier.base_url
        await uow.commit()
        return supplier


async def change_credentials(portal: Portal, customer_id: int, credentials: Credentials) -> CustomerNumber:
    """New credentials from the supplier: the customer number must be coupled again with them."""
    credentials.check()
    async with portal.uow() as uow:
        customer = await uow.customers.get(customer_id, lock=True)
        customer.sign_in_with(credentials)
        await uow.commit()
        return customer


async def add_customer_number(
    portal: Portal, supplier_id: int, org_unit_id: int, number: str, credentials: Credentials
) -> CustomerNumber:
    """Record a customer number for an org unit; it starts uncoupled."""
    credentials.check()
    async with portal.uow() as uow:
        await uow.suppliers.get(supplier_id)
        await uow.org_units.get(org_unit_id)
        c = credentials
        customer = CustomerNumber(supplier_id, org_unit_id, number, c.method, c.username, c.password, c.api_key)
        await _add_unique(uow, uow.customers, customer, "a customer number of this supplier for this org unit")
        return customer


async def get_customer_number(portal: Portal, customer_id: int) -> CustomerNumber:
    async with portal.uow() as uow:
        return await uow.customers.get(customer_id)


async def couple_customer_number(portal: Portal, customer_id: int) -> CustomerNumber:
    """Authenticate at the supplier with the chosen method: COUPLED, or a refusal naming its cause."""
    async with portal.uow() as uow:
        customer = await uow.customers.get(customer_id)
        supplier = await uow.suppliers.get(customer.supplier_id)
    if supplier.order_interface is not OrderInterface.ORDERPORTAL:
        raise IllegalState(f"supplier {supplier.name} orders the PRECASTED way; switch it to ORDERPORTAL first")
    checked = customer.credentials
    client = portal.client_for(supplier, customer)
    try:  # no transaction is open while the supplier answers
        await client.check_access()
    except SupplierError as exc:
        if isinstance(exc, ContractBroken):
            await common.keep(portal, supplier.id or 0, "contract", str(exc), exc.endpoint, None)
        cause, field, status = _cause(exc, customer)
        # The supplier said no to these credentials: uncoupled. A network failure proves nothing:
        # the state stays, with the failure noted.
        await _set_coupling(portal, customer_id, checked, cause, keep_state=status != 422)
        raise CouplingFailed(cause, field, status) from None
    secret = customer.webhook_secret or secrets.token_urlsafe(32)
    pushed = portal.webhook_base_url is not None and await _register_webhook(portal, client, customer_id, secret)
    return await _set_coupling(portal, customer_id, checked, None, secret if pushed else customer.webhook_secret)


async def _set_coupling(
    portal: Portal,
    customer_id: int,
    checked: Credentials,
    failure: str | None,
    webhook_secret: str | None = None,
    keep_state: bool = False,
) -> CustomerNumber:
    """Apply the supplier's answer, but only to the credentials it was about."""
    async with portal.uow() as uow:
        customer = await uow.customers.get(customer_id, lock=True)
        if customer.credentials != checked:
            # New credentials arrived while the supplier checked the old ones: its answer says nothing
            # about them, and they stay uncoupled until a coupling checks them.
            raise IllegalState("the credentials changed while the supplier checked the old ones: couple again")
        if failure is None:
            customer.couple()
            customer.webhook_secret = webhook_secret
        elif keep_state:
            customer.last_error = failure
        else:
            customer.uncouple(failure)
        await uow.commit()
        return customer


def _cause(exc: SupplierError, customer: CustomerNumber) -> tuple[str, str | None, int]:
    """The cause in words, the field to fix, and the HTTP status that says whose fault it is."""
    if isinstance(exc, WrongCredentials):
        field = "/apiKey" if customer.auth_method is AuthMethod.API_KEY else "/password"
        return "wrong credentials: the supplier refused them", field, 422
    if isinstance(exc, CustomerNumberRefused):
        return (
            f"unknown customer number {customer.number!r}: the supplier refused it for these credentials",
            "/number",
            422,
        )
    if isinstance(exc, SupplierUnreachable):
        return f"unreachable supplier: {exc}", None, 502
    if exc.status == 404:
        return f"the supplier has no Supplier API v1 at this baseUrl ({exc}): {ROOT_URL}", "/baseUrl", 502
    return f"the supplier failed: {exc}", None, 502


async def _register_webhook(portal: Portal, client: SupplierApi, customer_id: int, secret: str) -> bool:
    """Ask for pushed events; a supplier without webhooks is followed by polling alone."""
    try:
        await client.register_webhook(f"{portal.webhook_base_url}/api/webhooks/{customer_id}", secret)
    except SupplierError as exc:
        log.warning("customer number %s: no webhook at the supplier (%s); polling only", customer_id, exc)
        return False
    return True
