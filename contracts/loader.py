"""Loads every schema once, checks it, and compiles one validator per schema."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from contracts.bodies import MAX_DEPTH, depth_over

CONTRACT_VERSION = "1.0.0"
SCHEMA_SUFFIX = ".schema.json"
PORTAL_OPENAPI = "portal-openapi.yaml"  # the retailer portal's own API, beside Supplier API v1


@dataclass(frozen=True, slots=True)
class Violation:
    """One failing place in an instance: a JSON pointer and what is wrong there."""

    pointer: str
    message: str


class ContractViolation(ValueError):
    """An instance does not match its schema; carries every failing pointer."""

    def __init__(self, schema: str, violations: list[Violation], context: str = "") -> None:
        self.schema = schema
        self.violations = violations
        self.context = context
        where = f"{context}: " if context else ""
        listed = "; ".join(f"{v.pointer or '/'}: {v.message}" for v in violations)
        super().__init__(f"{where}does not match {schema}: {listed}")


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _violations(error: jsonschema_rs.ValidationError, worded: dict[str, str]) -> list[Violation]:
    """Point at the field itself, not its parent, for a missing or an unexpected property; never quote the value."""
    path = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [Violation(_pointer([*path, kind.property]), "is required")]
    if isinstance(kind, (_KIND.AdditionalProperties, _KIND.UnevaluatedProperties)):
        return [Violation(_pointer([*path, extra]), "is not allowed") for extra in kind.unexpected]
    if isinstance(kind, _KIND.Pattern) and kind.pattern in worded:
        return [Violation(_pointer(path), f"must be {worded[kind.pattern]}")]
    return [Violation(_pointer(path), _rule(kind))]


_KIND = jsonschema_rs.ValidationErrorKind


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rule(kind: Any) -> str:
    """The rule an instance broke, in words built from the schema alone.

    The validator's own message quotes the instance, and an instance may hold a password at any
    depth (a credential wrapped in an array, say); so the rule is told here from the schema's
    parameters, and the value itself is never repeated.
    """
    k = _KIND
    described: list[tuple[type, Any]] = [
        (k.Type, lambda: "must be of type " + " or ".join(str(t) for t in kind.types)),
        (k.Enum, lambda: "must be one of " + _json(kind.options)),
        (k.Constant, lambda: "must be " + _json(kind.expected_value)),
        (k.MinLength, lambda: f"must be at least {kind.limit} characters long"),
        (k.MaxLength, lambda: f"must be at most {kind.limit} characters long"),
        (k.Pattern, lambda: f"must match the pattern {kind.pattern}"),
        (k.Format, lambda: f"must be a valid {kind.format}"),
        (k.Minimum, lambda: f"must be at least {_json(kind.limit)}"),
        (k.Maximum, lambda: f"must be at most {_json(kind.limit)}"),
        (k.ExclusiveMinimum, lambda: f"must be greater than {_json(kind.limit)}"),
        (k.ExclusiveMaximum, lambda: f"must be less than {_json(kind.limit)}"),
        (k.MultipleOf, lambda: f"must be a multiple of {_json(kind.multiple_of)}"),
        (k.MinItems, lambda: f"must have at least {kind.limit} items"),
        (k.MaxItems, lambda: f"must have at most {kind.limit} items"),
        (k.MinProperties, lambda: f"must have at least {kind.limit} properties"),
        (k.MaxProperties, lambda: f"must have at most {kind.limit} properties"),
        (k.UniqueItems, lambda: "must not repeat an item"),
        (k.Contains, lambda: "must contain an item that matches its schema"),
        (k.AnyOf, lambda: "must match one of the allowed forms"),
        (k.OneOfNotValid, lambda: "must match exactly one of the allowed forms, and matches none"),
        (k.OneOfMultipleValid, lambda: "must match exactly one of the allowed forms, and matches several"),
        (k.Not, lambda: "must not match the form the contract excludes"),
        (k.FalseSchema, lambda: "is not allowed"),
        (k.PropertyNames, lambda: "has a property name the contract does not allow"),
    ]
    for cls, words in described:
        if isinstance(kind, cls):
            return str(words())
    return f"breaks the contract's {type(kind).__name__} rule"


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a schema, at any depth, with a pattern."""
    if isinstance(value, dict):
        if isinstance(value.get("pattern"), str):
            yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


class Contracts:
    """The schemas of one directory, compiled once and looked up by name (file name without suffix)."""

    def __init__(self, schemas: dict[str, dict[str, Any]], openapi: dict[str, Any] | None = None) -> None:
        self.schemas = schemas
        self.openapi = openapi
        self._by_id = {schema["$id"]: name for name, schema in schemas.items()}
        # A pattern a person cannot read is told in the words of its schema's x-rule, where it has one.
        self._worded = {node["pattern"]: node["x-rule"] for node in _nodes(schemas) if "x-rule" in node}
        for schema in schemas.values():
            jsonschema.Draft202012Validator.check_schema(schema)
        registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values()])
        # jsonschema-rs validates about 100 times faster than the pure Python
        # implementation, which matters on the simulator's order path.
        self._validators = {
            name: jsonschema_rs.Draft202012Validator(
                schema, registry=registry, validate_formats=True, base_uri=schema["$id"]
            )
            for name, schema in schemas.items()
        }

    @property
    def names(self) -> list[str]:
        return sorted(self.schemas)

    def is_valid(self, name: str, instance: object) -> bool:
        validator = self._validator(name)
        try:
            return bool(validator.is_valid(instance))
        except ValueError:
            if depth_over(instance, MAX_DEPTH):
                return False
            raise

    def errors(self, name: str, instance: object) -> list[Violation]:
        """Every failure of ``instance`` against ``name``, sorted by pointer."""
        validator = self._validator(name)
        try:
            found = [v for e in validator.iter_errors(instance) for v in _violations(e, self._worded)]
        except ValueError:  # the validator gives up at 256 levels with an exception, not a failure
            if depth_over(instance, MAX_DEPTH):
                return [Violation("", f"nests arrays and objects deeper than {MAX_DEPTH} levels")]
            raise
        return sorted(found, key=lambda v: v.pointer)

    def validate(self, name: str, instance: object, context: str = "") -> None:
        if not self._validator(name).is_valid(instance):
            raise ContractViolation(name, self.errors(name, instance), context)

    def _validator(self, name: str) -> jsonschema_rs.Validator:
        try:
            return self._validators[name]
        except KeyError:
            raise KeyError(f"unknown contract {name!r}; known: {', '.join(self.names)}") from None


def load_package_contracts() -> Contracts:
    root = resources.files("contracts")
    schemas = {
        entry.name.removesuffix(SCHEMA_SUFFIX): json.loads(entry.read_text("utf-8"))
        for entry in (root / "schemas").iterdir()
        if entry.name.endswith(SCHEMA_SUFFIX)
    }
    return Contracts(schemas, yaml.safe_load(openapi_text()))


@functools.cache
def contracts() -> Contracts:
    """The package's contracts, loaded and compiled on first use."""
    return load_package_contracts()


@functools.cache
def openapi_text() -> str:
    """Supplier API v1's OpenAPI document as the simulator serves it: read once."""
    return (resources.files("contracts") / "openapi.yaml").read_text("utf-8")


@functools.cache
def portal_openapi_text() -> str:
    """The portal's OpenAPI document as it is served: read once."""
    return (resources.files("contracts") / PORTAL_OPENAPI).read_text("utf-8")


@functools.cache
def portal_openapi() -> dict[str, Any]:
    """The portal's OpenAPI document, parsed once; its request bodies are the portal's own schemas."""
    document: dict[str, Any] = yaml.safe_load(portal_openapi_text())
    return document
