"""Loads every schema once, checks it, and compiles one validator per schema."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from contracts.redaction import SECRET_FIELDS, redact_json

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


def _violations(error: jsonschema_rs.ValidationError) -> list[Violation]:
    """Point at the field itself, not its parent, for a missing or an unexpected property."""
    path = list(error.instance_path)
    kind = error.kind
    withheld = [Violation(_pointer(path), f"fails the contract's {kind.name} rule (value withheld)")]
    if path and str(path[-1]).lower() in SECRET_FIELDS:
        return withheld  # the validator's message quotes the value, and this one is a secret
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [Violation(_pointer([*path, kind.property]), "is required")]
    if isinstance(
        kind,
        (
            jsonschema_rs.ValidationErrorKind.AdditionalProperties,
            jsonschema_rs.ValidationErrorKind.UnevaluatedProperties,
        ),
    ):
        return [Violation(_pointer([*path, extra]), "is not allowed") for extra in kind.unexpected]
    if redact_json(error.instance) != error.instance:
        return withheld  # the message would quote an object that holds a secret, at any depth
    return [Violation(_pointer(path), error.message)]


class Contracts:
    """The schemas of one directory, compiled once and looked up by name (file name without suffix)."""

    def __init__(self, schemas: dict[str, dict[str, Any]], openapi: dict[str, Any] | None = None) -> None:
        self.schemas = schemas
        self.openapi = openapi
        self._by_id = {schema["$id"]: name for name, schema in schemas.items()}
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
        return bool(self._validator(name).is_valid(instance))

    def errors(self, name: str, instance: object) -> list[Violation]:
        """Every failure of ``instance`` against ``name``, sorted by pointer."""
        found = [v for e in self._validator(name).iter_errors(instance) for v in _violations(e)]
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
    openapi = yaml.safe_load((root / "openapi.yaml").read_text("utf-8"))
    return Contracts(schemas, openapi)


@functools.cache
def contracts() -> Contracts:
    """The package's contracts, loaded and compiled on first use."""
    return load_package_contracts()


@functools.cache
def portal_openapi_text() -> str:
    """The portal's OpenAPI document as it is served: read once."""
    return (resources.files("contracts") / PORTAL_OPENAPI).read_text("utf-8")


@functools.cache
def portal_openapi() -> dict[str, Any]:
    """The portal's OpenAPI document, parsed once; its request bodies are the portal's own schemas."""
    document: dict[str, Any] = yaml.safe_load(portal_openapi_text())
    return document
