"""Domain errors, and the one place that turns errors into problem details (RFC 9457)."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import BaseModel

logger = logging.getLogger("instcat.errors")
# Where the request-log middleware leaves the request id in the ASGI scope.
REQUEST_ID_KEY = "instcat_request_id"

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of all errors the services raise on purpose."""

    status_code = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class InvalidInput(DomainError):
    """The request is well-formed but a field is wrong (400, with a field list)."""

    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, detail: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.errors = [{"field": field, "message": message} for field, message in errors]

    @classmethod
    def field(cls, field: str, message: str) -> "InvalidInput":
        return cls(f"{field}: {message}", [(field, message)])


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"
    slug = "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="instcat"'})


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"
    slug = "not-found"

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"No {entity.replace('_', ' ')} {key!r}.")
        self.entity = entity


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(DomainError):
    status_code = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class UnsupportedMediaType(DomainError):
    status_code = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"
    slug = "too-many-requests"


class ServiceUnavailable(DomainError):
    status_code = 503
    title = "Service unavailable"
    slug = "unavailable"


class Unprocessable(DomainError):
    status_code = 422
    title = "Unprocessable content"
    slug = "unprocessable"


# --- errors of the command line, never turned into a response -----------------------------------


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


class SeedError(Exception):
    """The bundled data does not load: names the file and record."""


class GenerateError(Exception):
    """The synthetic data cannot be generated into this database; the message says why."""


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """Render a problem document."""
    body: dict[str, Any] = {
        "type": f"https://instcat.example/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(error: Mapping[str, Any]) -> str:
    key = error.get("key")
    source = error.get("source")
    if key and source == "query":
        return str(key)
    if key and source == "header":
        return f"header:{key}"
    return str(key) if key else "body"


def handle_domain_error(
    _request: Request[Any, Any, Any], exc: DomainError
) -> Response[dict[str, Any]]:
    errors = exc.errors if isinstance(exc, InvalidInput) else None
    return problem(
        exc.status_code, exc.title, exc.detail, exc.slug, errors=errors, headers=exc.headers
    )


def handle_validation_error(
    _request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        {"field": _field_name(item), "message": str(item.get("message", "invalid value"))}
        for item in extra
        if isinstance(item, Mapping)
    ]
    if not errors:
        errors = [{"field": "body", "message": str(exc.detail)}]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(400, "Invalid input", detail, "invalid-input", errors=errors)


_TITLES = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    413: ("Payload too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    429: ("Too many requests", "too-many-requests"),
}


def handle_http_error(
    _request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        logger.error("server error", exc_info=exc)
        return problem(status, "Internal server error", "The server failed.", "server-error")
    title, slug = _TITLES.get(status, ("Client error", "client-error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else title
    return problem(status, title, detail, slug, headers=exc.headers)


def handle_unexpected_error(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    # The traceback goes to the log with the request id, never into the response.
    logger.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        request.scope.get(REQUEST_ID_KEY),
        exc_info=exc,
    )
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal server error",
        "The server failed to handle this request; it has been logged.",
        "server-error",
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}


# --- the OpenAPI side of errors ---------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, wrong types, out-of-range values (field list in `errors`)",
    401: "Missing, unknown or revoked bearer token",
    403: "Signed in, but not allowed to do this",
    404: "No such resource, or not visible to the caller",
    409: "Conflicts with the current state",
    412: "If-Match does not match the current ETag",
    413: "Request body too large",
    415: "The body is not JSON: send it as application/json",
    422: "Idempotency-Key reused with a different body",
    429: "Too many writes from this token; see Retry-After",
}


def problem_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI declarations of the problem responses a route may give."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_DESCRIPTIONS[code],
            generate_examples=False,
        )
        for code in sorted({400, 401, *codes})
    }
