"""The Litestar application."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.pydantic import PydanticPlugin
from sqlalchemy import text

from instcat import __version__
from instcat.accounts.controller import AuditController, UserController
from instcat.auth import TokenAuthenticationMiddleware, provide_actor
from instcat.bodies import MAX_JSON_DEPTH, JsonBodyRequest, declare_json_body_problems
from instcat.catalogue.controller import (
    CategoryController,
    MarketFigureController,
    ProductController,
    VendorController,
)
from instcat.config import Settings
from instcat.db import Database
from instcat.errors import EXCEPTION_HANDLERS, ServiceUnavailable, problem_responses
from instcat.feedback.controller import FeedbackController, ProductFeedbackController
from instcat.logs import logging_config
from instcat.middleware import ControlCharacterMiddleware, RequestLog, WriteRateLimitMiddleware
from instcat.substitution.controller import AlternativesController, SubstitutionListController
from instcat.trials.controller import TrialController

API_PREFIX = "/api/v1"


@get("/healthz", tags=["health"], responses=problem_responses())
async def healthz(state: State) -> dict[str, Any]:
    """Liveness and database check."""
    try:
        async with state.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means "not healthy"
        raise ServiceUnavailable(f"database check failed: {type(error).__name__}") from error
    return {"status": "ok", "database": "ok", "version": __version__}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="instcat",
        version=__version__,
        description=(
            "Catalogue of domestic scientific instruments, the evidence behind them, "
            "and the import-substitution list. Errors are RFC 9457 problem details. "
            "Request bodies are JSON, sent as `Content-Type: application/json` (a charset "
            "parameter and `application/*+json` types are fine; anything else is a 415), "
            f"nested at most {MAX_JSON_DEPTH} levels deep, with no key twice in one object "
            "(both a 400). Control characters in the path or a query parameter are a 400."
        ),
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API token")
            }
        ),
        security=[{}, {"bearer": []}],
        use_handler_docstrings=True,
        create_examples=False,
    )


def openapi_document(app: Litestar) -> str:
    """The app's OpenAPI document as stable, diff-friendly JSON."""
    return (
        json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


class InstcatApp(Litestar):
    """Litestar with the request log around everything, routing and error answers included.

    Litestar's own middleware runs per route, inside routing and inside the handling of
    errors raised by other middleware, so it never sees a 404, a 405 or a 401 as sent.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._logged = RequestLog(super().__call__)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._logged(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for the given settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.db = Database.from_settings(settings)
        try:
            yield
        finally:
            await app.state.db.dispose()

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            CategoryController,
            MarketFigureController,
            VendorController,
            ProductController,
            TrialController,
            ProductFeedbackController,
            FeedbackController,
            AlternativesController,
            SubstitutionListController,
            UserController,
            AuditController,
        ],
    )
    auth = DefineMiddleware(TokenAuthenticationMiddleware, exclude=[r"^/schema", r"^/healthz$"])
    # The request log is not in this list: it wraps the whole app (see InstcatApp).
    middleware: list[Any] = [ControlCharacterMiddleware(), auth]
    if settings.write_rate_per_minute > 0:
        middleware.append(
            WriteRateLimitMiddleware(settings.write_rate_per_minute, settings.write_burst)
        )
    app = InstcatApp(
        route_handlers=[healthz, api],
        lifespan=[lifespan],
        dependencies={"actor": Provide(provide_actor)},
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        # Strict: a number sent as a string is a 400, not silently converted.
        plugins=[PydanticPlugin(validate_strict=True, prefer_alias=True)],
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        request_class=JsonBodyRequest,
        logging_config=logging_config(),
        state=State({"settings": settings}),
        debug=False,
    )
    declare_json_body_problems(app)
    return app
