"""The portal's OpenAPI document: valid OpenAPI 3.1, one operation per route, the schemas the portal uses."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.strategies
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

import contracts as contracts_package
from contracts.loader import portal_openapi
from portal.entrypoints.app import create_app
from portal.entrypoints.requests import SCHEMAS, requests
from portal.service_layer.context import Portal
from portal.service_layer.setup import _base_url_fault

DOCUMENT = Path(contracts_package.__file__).parent / "portal-openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def served_routes() -> dict[tuple[str, str], str | None]:
    app = create_app(Portal(None, None))  # type: ignore[arg-type]  # the routes only: nothing is called
    return {
        (route.method, route.resource.canonical): route.name
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"  # aiohttp answers HEAD on every GET route
        and not route.resource.canonical.startswith("/ui")  # the dashboard's pages are HTML for people, not API
    }


def handler_sources() -> set[str]:
    """The source of every module that holds a handler of the router that create_app builds."""
    app = create_app(Portal(None, None))  # type: ignore[arg-type]  # the routes only: nothing is called
    return {inspect.getsource(sys.modules[route.handler.__module__]) for route in app.router.routes()}


def test_the_portal_document_is_valid_openapi_3_1_and_every_reference_resolves() -> None:
    validate_openapi(yaml.safe_load(DOCUMENT.read_text("utf-8")), base_uri=DOCUMENT.as_uri())


def test_every_route_of_the_portal_is_in_the_document_under_its_name_and_nothing_else_is() -> None:
    documented = {key: operation["operationId"] for key, operation in operations(portal_openapi()).items()}
    served = served_routes()
    assert sorted(set(served) - set(documented)) == [], "a route of the portal is not in its OpenAPI document"
    assert sorted(set(documented) - set(served)) == [], "the document has an operation the portal does not serve"
    assert documented == served, "an operationId is not the name of its route"


def test_every_error_answer_is_problem_json_and_every_success_has_a_schema() -> None:
    components = portal_openapi()["components"]["responses"]
    for (method, path), operation in operations(portal_openapi()).items():
        for status, response in operation["responses"].items():
            if "$ref" in response:
                response = components[response["$ref"].rsplit("/", 1)[1]]
            media = next(iter(response["content"]))
            if status >= "400":
                assert media == "application/problem+json", f"{method} {path} {status}"
            assert response["content"][media]["schema"], f"{method} {path} {status}"


def test_the_request_bodies_are_the_schemas_the_portal_validates_with() -> None:
    used = {
        node.args[1].value
        for source in handler_sources()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "body_of"
        and isinstance(node.args[1], ast.Constant)
    }
    assert used == set(SCHEMAS) == set(requests.names)
    components = portal_openapi()["components"]["schemas"]
    for name in used:
        assert requests.schemas[name] == {"$id": requests.schemas[name]["$id"], **components[name]}


def test_the_problem_schema_is_the_one_of_supplier_api_v1() -> None:
    supplier_side = json.loads((DOCUMENT.parent / "schemas" / "problem.schema.json").read_text("utf-8"))
    del supplier_side["$schema"], supplier_side["$id"]
    assert portal_openapi()["components"]["schemas"]["Problem"] == supplier_side


def test_every_operation_that_takes_a_body_documents_the_408_413_and_415_it_may_answer() -> None:
    for (method, path), operation in operations(portal_openapi()).items():
        if "requestBody" in operation:
            assert {"408", "413", "415"} <= set(operation["responses"]), f"{method} {path}"


BASE_URLS = [
    "http://127.0.0.1:9",
    "HTTPS://supplier.example/api/v1/",
    "http://[::1]:8080/a;b=1/%20/@x",
    "http://user:pw@127.0.0.1:9",
    "http://@127.0.0.1:9",
    "http://127.0.0.1:9/a b",
    "http://127.0.0.1:9/\x7f",
    "http://bücher.example:9",
    "http://127.0.0.1:9/?q=1",
    "http://127.0.0.1:9/#f",
    "http://127.0.0.1:9?",
    "ftp://127.0.0.1:9",
]


BASE_URL_PATTERN = portal_openapi()["components"]["schemas"]["BaseUrl"]["pattern"]


@pytest.mark.parametrize("url", BASE_URLS)
def test_the_documents_base_url_pattern_refuses_what_the_portal_refuses_for_its_form(url: str) -> None:
    pattern = portal_openapi()["components"]["schemas"]["BaseUrl"]["pattern"]
    assert (re.search(pattern, url) is not None) is (_base_url_fault(url) is None)


@hypothesis.settings(max_examples=300, derandomize=True, deadline=None, database=None)
@hypothesis.given(url=hypothesis.strategies.from_regex(BASE_URL_PATTERN, fullmatch=True))
def test_every_base_url_the_documents_pattern_admits_is_taken_by_the_portal(url: str) -> None:
    # schemathesis sends such URLs as valid data: the portal must take each one, or the document lies.
    assert _base_url_fault(url) is None
