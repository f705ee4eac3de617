"""The README and contracts/openapi.yaml say the same: the OpenAPI document is the authority, the README follows."""

from __future__ import annotations

import re
from pathlib import Path

from contracts import contracts
from contracts.statuses import STATUSES
from scenarios.certify import checks  # noqa: F401  (importing them registers every check)
from scenarios.certify.registry import REGISTRY

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
CUSTOMER = "/customers/{n}"


def table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading``, each as its cells, without the header."""
    after = README[README.index(heading) :]
    lines = re.search(r"(^\|.*\|$\n?)+", after, re.M)
    assert lines, f"no table after {heading}"
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines.group().splitlines()]
    return rows[2:]


def openapi_operations() -> dict[str, set[str]]:
    """``GET /customers/{n}/orders`` -> its query parameter names, for every operation of the document."""
    document = contracts().openapi or {}
    found = {}
    for path, item in document["paths"].items():
        short = path.removeprefix("/api/v1").replace("/customers/{customerNumber}", CUSTOMER)
        for method, operation in item.items():
            if method == "parameters":
                continue
            params = [*item.get("parameters", []), *operation.get("parameters", [])]
            names = set()
            for param in params:
                if "$ref" in param:
                    param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
                if param["in"] == "query":
                    names.add(param["name"])
            found[f"{method.upper()} {short}"] = names
    return found


def readme_operations() -> dict[str, set[str]]:
    found = {}
    for cell, _ in table("### Supplier API v1"):
        codes = re.findall(r"`([^`]+)`", cell)
        methods = [c for c in codes if c.isupper()]
        target = next(c for c in codes if " /" in c)
        method, _, url = target.partition(" ")
        path, _, query = url.partition("?")
        for each in [*methods, method]:
            found[f"{each} {path}"] = {p.split("=")[0] for p in query.split("&") if p}
    return found


def test_the_readme_lists_every_operation_of_the_contract_with_its_query_parameters() -> None:
    assert readme_operations() == openapi_operations()


def test_every_header_the_readme_names_for_an_order_is_declared_in_the_contract() -> None:
    create = (contracts().openapi or {})["paths"]["/api/v1/customers/{customerNumber}/orders"]["post"]
    declared = {p["name"] for p in create["parameters"] if p["in"] == "header"} | set(
        create["responses"]["201"]["headers"]
    )
    row = next(r for r in table("### Supplier API v1") if r[0].startswith("`POST /customers"))
    named = {h for h in re.findall(r"`([A-Z][A-Za-z]+(?:-[A-Z][A-Za-z]+)+)", " ".join(row))}
    assert named and named <= declared, named - declared


def test_the_reason_codes_the_readme_names_are_the_contract_s() -> None:
    codes = set(contracts().schemas["common"]["$defs"]["reasonCode"]["enum"])
    paragraph = README[README.index("Processing decides") :].split("\n\n")[0]
    named = set(re.findall(r"`([A-Z_]{5,})`", paragraph)) - set(STATUSES)
    assert named | {"OTHER"} == codes


def expand(cell: str) -> set[str]:
    """``AUTH-01..04, PAGING-01`` as each id."""
    ids = set()
    for first, last in re.findall(r"([A-Z]+-\d\d)(?:\.\.(\d\d))?", cell):
        family, number = first.rsplit("-", 1)
        ids |= {f"{family}-{n:02d}" for n in range(int(number), int(last or number) + 1)}
    return ids


def test_the_readme_lists_every_certification_check() -> None:
    listed = set().union(*(expand(row[0]) for row in table("Each check has a stable id")))
    assert listed == {c.id for c in REGISTRY}


def test_the_readme_s_switch_table_says_which_checks_each_switch_fails() -> None:
    from tests.integration.test_certify import MATRIX

    rows = table("| switch | what the answer does |")
    documented = {row[0].strip("`"): expand(row[2]) for row in rows}
    assert documented == MATRIX
