"""The behaviour profile: YAML, checked against its contract, turned into plain settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from contracts import ContractViolation, Violation, contracts
from contracts.wire import later, parse_timestamp

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")
CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
LOG_NORMAL_CAP_S = 60.0


def seconds(value: float | int | str) -> float:
    """A profile duration (a number of seconds, or ``30m``-style text) in seconds."""
    if isinstance(value, int | float):
        return float(value)
    match = DURATION.match(value)
    if not match:
        raise ValueError("is not a duration such as 45s, 30m or 10h")
    return float(match.group(1)) * UNITS[match.group(2)]


@dataclass(frozen=True, slots=True)
class Delay:
    """Milliseconds: fixed (low == high), uniform from low to high, or log-normal around a median, capped at high."""

    low_ms: int
    high_ms: int
    median_ms: int | None = None
    sigma: float = 0.0

    @classmethod
    def parse(cls, value: Any) -> Delay:
        if isinstance(value, dict) and "median" in value:
            cap = seconds(value.get("max", LOG_NORMAL_CAP_S))
            return cls._log_normal(seconds(value["median"]), value["sigma"], cap)
        if isinstance(value, dict):
            low, high = seconds(value["min"]), seconds(value["max"])
        else:
            low = high = seconds(value)
        if high < low:
            raise ValueError("has a max below its min")
        return cls(int(low * 1000), int(high * 1000))

    @classmethod
    def _log_normal(cls, median: float, sigma: float, cap: float) -> Delay:
        # The tail of a log-normal is long: without a cap, one draw could stall a run for hours.
        if median < 0.001:
            raise ValueError("needs a median of at least 1ms")
        if cap < median:
            raise ValueError("has a max below its median")
        return cls(0, round(cap * 1000), round(median * 1000), float(sigma))


@dataclass(frozen=True, slots=True)
class Customer:
    number: str
    auth: str
    name: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class CatalogChange:
    at_ms: int
    kind: str
    product_number: str | None
    count: int


@dataclass(frozen=True, slots=True)
class RejectionRule:
    reason_code: str
    product_number: str | None
    order_number: re.Pattern[str] | None
    org_unit: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    """Switches that break Supplier API v1 on purpose, so that certification can be shown to catch each."""

    wrong_totals: bool = False
    product_missing_between_pages: bool = False
    illegal_status_move: bool = False
    over_dispatch: bool = False
    duplicate_on_replay: bool = False
    server_error_on_bad_input: bool = False
    leak_other_customer: bool = False
    wrong_field_type: bool = False
    refuse_good_credentials: bool = False
    accept_wrong_password: bool = False
    accept_missing_credentials: bool = False
    ignore_page_size_limit: bool = False
    ignore_updated_since: bool = False
    case_sensitive_search: bool = False
    created_not_new: bool = False
    replay_ignores_body: bool = False
    accept_bad_quantity: bool = False
    echo_other_quantities: bool = False
    no_replayed_header: bool = False
    wrong_location: bool = False
    server_error_on_unknown_order: bool = False
    overlapping_order_pages: bool = False
    ignore_status_filter: bool = False
    ignore_order_updated_since: bool = False
    lenient_list_parameters: bool = False
    reject_without_reason: bool = False
    mismatch_every_container: bool = False
    history_out_of_order: bool = False
    dispatch_before_accepted: bool = False
    webhook_shows_secret: bool = False
    sign_body_only: bool = False
    malformed_events: bool = False
    no_redelivery: bool = False
    delete_keeps_webhook: bool = False
    echo_bad_values: bool = False
    slow_answers: bool = False
    read_back_other_warehouse: bool = False

    @classmethod
    def parse(cls, raw: dict[str, bool]) -> Misbehaviour:
        """The profile's ``misbehave`` section (camelCase keys, already validated)."""
        return cls(**{CAMEL_HUMP.sub("_", key).lower(): bool(value) for key, value in raw.items()})


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    clock_start_ms: int
    token_lifetime_ms: int
    customers: tuple[Customer, ...]
    catalog_size: int
    catalog_file: Path | None
    currency: str
    tax_rates: tuple[str, ...]
    inactive_rate: float
    catalog_changes: tuple[CatalogChange, ...]
    processing_delay: Delay
    acceptance_delay: Delay
    random_rejection_rate: float
    rejection_rules: tuple[RejectionRule, ...]
    minimum_order_value: Decimal
    default_stock: int
    stock: dict[str, int] = field(default_factory=dict)
    notifications: tuple[int, int] = (1, 1)
    dispatch_delay: Delay = Delay(0, 0)
    dispatch_interval: Delay = Delay(0, 0)
    short_shipment_rate: float = 0.0
    carriers: tuple[str, ...] = ("DHL",)
    delivery_days: int = 2
    webhook_max_attempts: int = 8
    webhook_backoff_ms: int = 2000
    webhook_timeout_s: float = 5.0
    journal_size: int = 10000
    misbehave: Misbehaviour = Misbehaviour()
    faults: tuple[dict[str, Any], ...] = ()  # fault rules as written; supplier_sim.faults reads them

    def customer(self, number: str) -> Customer | None:
        return next((c for c in self.customers if c.number == number), None)


def default_profile_text() -> str:
    return (resources.files("supplier_sim") / "profiles" / "default.yaml").read_text("utf-8")


BUNDLED_PROFILES = ("default", "certification")  # names --profile takes besides a file


def load_profile(path: str | Path | None = None) -> Profile:
    """Read a profile file, or a bundled profile by its name (the default one when ``path`` is None)."""
    if path is None:
        return parse_profile(yaml.safe_load(default_profile_text()), base=None)
    if str(path) in BUNDLED_PROFILES and not Path(path).exists():
        text = (resources.files("supplier_sim") / "profiles" / f"{path}.yaml").read_text("utf-8")
        return parse_profile(yaml.safe_load(text), base=None)
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(raw, dict) and "name" not in raw:
        raw = {**raw, "name": path.stem}  # the banner names the file, not the default it builds on
    return parse_profile(raw, base=path.parent)


def parse_profile(raw: Any, base: Path | None) -> Profile:
    """Validate a decoded profile and fill in the defaults of the bundled one."""
    raw = _plain(raw)
    contracts().validate("sim-profile", raw, context="profile")
    defaults = yaml.safe_load(default_profile_text())
    merged = {**defaults, **raw}
    for section in ("catalog", "lifecycle", "rejection", "stock", "dispatch", "webhooks", "journal", "clock"):
        merged[section] = {**defaults.get(section, {}), **raw.get(section, {})}
    if "catalog" in raw and "changes" not in raw["catalog"]:
        merged["catalog"]["changes"] = []
    cat, life, rej, disp, hooks = (merged[k] for k in ("catalog", "lifecycle", "rejection", "dispatch", "webhooks"))
    start_ms = _checked(parse_timestamp, merged["clock"]["start"], "/clock/start", "is not an RFC 3339 timestamp")
    notifications = disp["notifications"]
    low, high = (
        (notifications["min"], notifications["max"])
        if isinstance(notifications, dict)
        else (notifications, notifications)
    )
    if high < low:
        raise _refused("/dispatch/notifications/max", "is below its min")
    _check_unique(merged["customers"])
    if errors := fault_rule_errors(merged.get("faults", [])):
        raise ContractViolation("sim-profile", [replace(e, pointer="/faults" + e.pointer) for e in errors], "profile")
    catalog_file = cat.get("file")
    return Profile(
        name=merged.get("name", "custom"),
        clock_start_ms=start_ms,
        token_lifetime_ms=int(seconds(merged["tokenLifetime"]) * 1000),
        customers=tuple(
            Customer(
                number=c["number"],
                auth=c["auth"],
                name=c.get("name", ""),
                username=c.get("username"),
                password=c.get("password"),
                api_key=c.get("apiKey"),
                blocked=c.get("blocked", False),
            )
            for c in merged["customers"]
        ),
        catalog_size=cat["size"],
        catalog_file=(base or Path.cwd()) / catalog_file if catalog_file else None,
        currency=cat["currency"],
        tax_rates=tuple(cat["taxRates"]),
        inactive_rate=cat.get("inactiveRate", 0.0),
        catalog_changes=tuple(
            sorted(
                (
                    CatalogChange(
                        later(start_ms, seconds(ch["at"]) * 1000),
                        ch["kind"],
                        ch.get("productNumber"),
                        ch.get("count", 1),
                    )
                    for ch in cat["changes"]
                ),
                key=lambda ch: ch.at_ms,
            )
        ),
        processing_delay=_delay(life, "/lifecycle/processingDelay"),
        acceptance_delay=_delay(life, "/lifecycle/acceptanceDelay"),
        random_rejection_rate=rej.get("randomRate", 0.0),
        rejection_rules=tuple(
            RejectionRule(
                reason_code=r["reasonCode"],
                product_number=r.get("productNumber"),
                order_number=_pattern(r["orderNumber"], f"/rejection/rules/{index}/orderNumber")
                if "orderNumber" in r
                else None,
                org_unit=r.get("orgUnit"),
                message=r.get("message"),
            )
            for index, r in enumerate(rej.get("rules", []))
        ),
        minimum_order_value=Decimal(merged["minimumOrderValue"]),
        default_stock=merged["stock"]["default"],
        stock=dict(merged["stock"].get("products", {})),
        notifications=(low, high),
        dispatch_delay=_delay(disp, "/dispatch/delay"),
        dispatch_interval=_delay(disp, "/dispatch/interval"),
        short_shipment_rate=disp["shortShipmentRate"],
        carriers=tuple(disp["carriers"]),
        delivery_days=disp["deliveryDays"],
        webhook_max_attempts=hooks["maxAttempts"],
        webhook_backoff_ms=int(seconds(hooks["backoff"]) * 1000),
        webhook_timeout_s=seconds(hooks["timeout"]),
        journal_size=merged["journal"]["size"],
        misbehave=Misbehaviour.parse(merged.get("misbehave", {})),
        faults=tuple(merged.get("faults", [])),
    )


def _plain(value: Any) -> Any:
    """YAML reads an unquoted instant as a datetime and 12345 as an int key: make them JSON text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check_unique(customers: list[dict[str, Any]]) -> None:
    """A customer number appears once, and a credential belongs to exactly one customer."""
    for key in ("number", "username", "apiKey"):
        seen: dict[str, int] = {}
        for index, customer in enumerate(customers):
            value = customer.get(key)
            if value is None:
                continue
            if value in seen:
                # The pointers and the rule, never the value: it may be a credential.
                raise _refused(f"/customers/{index}/{key}", f"is used by another customer, /customers/{seen[value]}")
            seen[value] = index


def _refused(pointer: str, rule: str) -> ContractViolation:
    """A profile error that names the field and the rule it breaks, never the value."""
    return ContractViolation("sim-profile", [Violation(pointer, rule)], "profile")


def _checked(parse: Any, value: Any, pointer: str, rule: str) -> Any:
    try:
        return parse(value)
    except ValueError:
        raise _refused(pointer, rule) from None


def _delay(section: dict[str, Any], pointer: str) -> Delay:
    try:
        return Delay.parse(section[pointer.rsplit("/", 1)[1]])
    except ValueError as exc:  # Delay's messages name the rule, never the value
        raise _refused(pointer, str(exc)) from None


def _pattern(text: str, pointer: str) -> re.Pattern[str]:
    """The schema's regex dialect is ECMA 262's; one Python cannot compile is refused, its error not quoted."""
    try:
        return re.compile(text)
    except re.error:
        raise _refused(pointer, "is a regular expression Python cannot use") from None


def fault_rule_errors(rules: list[dict[str, Any]]) -> list[Violation]:
    """What the contract cannot say about fault rules: a latency that cannot be drawn."""
    errors = []
    for index, rule in enumerate(rules):
        try:
            Delay.parse(rule.get("latency", 0))
        except ValueError as exc:
            errors.append(Violation(f"/{index}/latency", str(exc)))
    return errors
