"""create_app(settings): wiring only — contract, routers, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import TracerProvider

from backend.auth.tokens import JwksVerifier, SharedSecretVerifier, TokenVerifier
from backend.contract import load_contract, methods_for, query_parameter_names
from backend.errors import install_error_handlers
from backend.events import relay
from backend.events.outbox import Outbox
from backend.http.access_log import AccessLog
from backend.http.body_limits import BodyLimits
from backend.http.cors import Cors, CorsPolicy, request_headers, success_headers
from backend.http.docs_pages import install_docs_pages
from backend.http.log_format import configure_logging
from backend.http.log_redaction import install_query_redaction
from backend.queries.idempotency import IdempotencyKeys
from backend.queries.store import TaskStore
from backend.routes import health, tasks
from backend.settings import Settings
from backend.storage.factory import connect
from backend.storage.schema import upgrade_to_head
from backend.telemetry import gauges, multiprocess, tracing
from backend.telemetry.exposition import MetricsPage
from backend.telemetry.metrics import Metrics
from backend.telemetry.requests import RequestMetrics
from backend.telemetry.spans import RequestSpans
from backend.telemetry.statements import ObservedDatabase

logger = logging.getLogger(__name__)


def build_verifier(settings: Settings) -> TokenVerifier:
    """The one verification mode the settings configure (Settings enforces exactly one)."""
    if settings.better_auth_jwks_url is not None:
        return JwksVerifier(
            settings.better_auth_jwks_url,
            algorithms=settings.jwt_algorithms or ("EdDSA",),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
            min_refresh_interval_seconds=settings.jwks_min_refresh_seconds,
        )
    secret = settings.better_auth_secret
    if secret is None:  # unreachable: Settings refuses a configuration with neither
        raise ValueError("no token verification key configured")
    return SharedSecretVerifier(
        secret.get_secret_value().encode(),
        algorithms=settings.jwt_algorithms or ("HS256",),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def _fixed_paths(*routers: FastAPI | APIRouter) -> list[str]:
    """Paths of the routes without parameters outside the contract (probes, documentation)."""
    paths = (getattr(route, "path", None) for router in routers for route in router.routes)
    return [path for path in paths if isinstance(path, str) and "{" not in path]


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The app; `tracer_provider` replaces the one the OTEL_* variables configure (tests)."""
    settings = settings or Settings()
    contract = load_contract()
    metrics = Metrics(multiprocess.shared_directory()) if settings.metrics_path else None
    traced = tracing.tracing_for(tracer_provider)
    tracer = traced.tracer if traced is not None else None
    database = connect(settings)
    if metrics is not None or tracer is not None:
        database = ObservedDatabase(database, metrics, tracer)
    verifier = build_verifier(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.should_migrate_on_start:
            await asyncio.to_thread(upgrade_to_head, settings.database_url)
        try:
            async with contextlib.AsyncExitStack() as running:
                if metrics is not None:
                    if metrics.shared_directory is not None:
                        running.enter_context(multiprocess.sharing(metrics.shared_directory))
                    await running.enter_async_context(gauges.sampling(database, metrics))
                await running.enter_async_context(
                    relay.running(database, settings, metrics, tracer)
                )
                yield
        finally:
            if isinstance(verifier, JwksVerifier):
                await verifier.aclose()
            await database.close()
            provider = tracer_provider or tracing.process_provider()
            if provider is not None:
                await asyncio.to_thread(provider.force_flush)

    app = FastAPI(
        title=contract["info"]["title"],
        version=contract["info"]["version"],
        lifespan=lifespan,
        docs_url=None,  # install_docs_pages serves both pages without a CDN
        redoc_url=None,
        # FastAPI's own telemetry records query values and rejected input (telemetry/
        # tracing.py says why this server has its own); off, it is also not asked per
        # request whether a provider has been configured meanwhile.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    # Serve the committed contract, not a schema re-derived from the handlers.
    app.openapi = lambda: contract  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.verifier = verifier
    app.state.store = store = TaskStore(database)
    app.state.idempotency_keys = IdempotencyKeys(
        store, ttl_seconds=settings.idempotency_key_ttl_seconds
    )
    app.include_router(tasks.router)
    app.include_router(health.router)
    if metrics is not None:
        app.add_route(
            settings.metrics_path,
            MetricsPage(metrics, Outbox(database).backlog).respond,
            methods=["GET"],
            include_in_schema=False,
        )
    install_error_handlers(app)
    configure_logging(settings.log_format)
    install_docs_pages(app, contract)
    install_query_redaction(query_parameter_names())
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        # Outside the body limits, so that every answer to a listed origin is readable, 413
        # and 415 too.
        policy = CorsPolicy(
            origins=frozenset(settings.cors_origins),
            # The request id is the operations' header, not the contract's; a script reads it
            # to report a problem.
            exposed_headers=(*success_headers(contract), "X-Request-ID"),
            methods_for=methods_for,
            request_headers=request_headers(contract),
            allow_credentials=settings.cors_allow_credentials,
        )
        app.add_middleware(Cors, policy=policy)
    # Outside everything else, so that its id and line cover every answer; it tells the
    # metrics of each request too, and starts and ends its span.
    app.add_middleware(
        AccessLog,
        fixed_paths=_fixed_paths(app, health.router),
        observer=RequestMetrics(metrics) if metrics is not None else None,
        tracer=RequestSpans(traced) if traced is not None else None,
    )
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn backend.main:app` builds the app from the environment when it asks for it,
    # never as a side effect of importing this module.
    if name == "app":
        return create_app()
    raise AttributeError(name)
