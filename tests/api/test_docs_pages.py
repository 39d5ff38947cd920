"""/docs and /redoc are served with their scripts and styles from the app itself: they work
offline and load nothing from a CDN (the browser test in tests/browser shows them render)."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

ASSET_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"}),
        ("/redoc", {"/docs-assets/redoc.standalone.js"}),
    ],
)
async def test_the_page_loads_its_assets_from_the_app(
    client: httpx.AsyncClient, page: str, assets: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    referenced = set(ASSET_REFERENCE.findall(response.text))
    assert assets <= referenced
    assert all(reference.startswith("/") for reference in referenced), referenced
    assert "fonts.googleapis.com" not in response.text
    assert "cdn.jsdelivr.net" not in response.text
    for asset in referenced:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset


async def test_swagger_ui_tries_requests_on_the_server_of_the_page(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/docs")).text
    assert '"servers": [{"url": "/", "description": "This server"}]' in page
    assert '"validatorUrl": null' in page


async def test_the_served_contract_keeps_its_own_servers(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served["servers"] == [
        {"url": "http://127.0.0.1:8000", "description": "Local development server (`make run`)"}
    ]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_page_may_load_from_its_own_server_only(
    client: httpx.AsyncClient, page: str
) -> None:
    policy = (await client.get(page)).headers["content-security-policy"]
    directives = dict(directive.split(" ", 1) for directive in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
