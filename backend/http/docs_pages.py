"""/docs (Swagger UI) and /redoc (ReDoc), with their scripts and styles served by the app."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

# fastapi-offline (MIT) ships the release builds of Swagger UI (Apache-2.0) and ReDoc (MIT):
# the pages work without internet access, and load nothing from a CDN.
ASSETS: Final = Path(str(files("fastapi_offline") / "static"))
ASSETS_URL: Final = "/docs-assets"
OPENAPI_URL: Final = "/openapi.json"
# The browser itself refuses the pages anything from another host: ReDoc, for one, would
# fetch its attribution logo from a CDN (it hides the logo when that fails).
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the page's inline start-up script
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc's search index runs in a worker
        "connect-src 'self'",
    )
)


def install_docs_pages(app: FastAPI, contract: dict[str, Any]) -> None:
    """Serve the contract as Swagger UI on /docs and ReDoc on /redoc."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    title = contract["info"]["title"]
    # "Try it out" calls the server that serves the page, wherever it runs, rather than the
    # development server the contract names.
    tried_here = {**contract, "servers": [{"url": "/", "description": "This server"}]}

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return self_contained(
            get_swagger_ui_html(
                openapi_url=OPENAPI_URL,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
                oauth2_redirect_url=None,
                # No validator badge: it would send the document to validator.swagger.io.
                swagger_ui_parameters={"spec": tried_here, "validatorUrl": None},
            )
        )

    async def redoc(_request: Request) -> HTMLResponse:
        return self_contained(
            get_redoc_html(
                openapi_url=OPENAPI_URL,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )

    # Plain Starlette routes, like the probes: pages about the contract, not operations of it.
    app.router.add_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.router.add_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def self_contained(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
