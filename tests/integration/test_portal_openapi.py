"""The portal serves its own OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import yaml

import contracts


async def test_the_portal_serves_its_openapi_document_as_yaml(start_portal, session) -> None:
    portal = await start_portal()
    async with session.get(f"{portal.url}/api/openapi.yaml") as answer:
        assert answer.status == 200 and answer.content_type == "application/yaml"
        served = await answer.read()
    assert served == (Path(contracts.__file__).parent / "portal-openapi.yaml").read_bytes()
    assert yaml.safe_load(served)["openapi"] == "3.1.0"
