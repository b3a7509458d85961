"""Request ids and structured access logs; per-token limits on writes."""

import logging
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from instcat.auth import Actor
from instcat.errors import REQUEST_ID_KEY, InvalidInput, TooManyRequests
from instcat.logs import ACCESS_LOGGER

access_log = logging.getLogger(ACCESS_LOGGER)
_encode_line = msgspec.json.Encoder().encode
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# As the `PRINTABLE` parameter pattern: no C0 control character and no DEL, tab included.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
_NO_CONTROL = "must not contain control characters"


class RequestLog:
    """Give every request an id (kept from X-Request-ID when sane), echo it, log one JSON line.

    It wraps the whole application, not a route: answers made before or around the route's
    own stack (404 and 405 from routing, 401 from the token check, 429 from the rate limit)
    get the header too, and their log line the status that was really sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        # ASGI lets middleware add keys of its own; the scope type only knows the standard ones.
        cast(dict[str, Any], scope)[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it sends anything

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                actor = scope.get("user")
                line = {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "actor": actor.id if isinstance(actor, Actor) else None,
                }
                access_log.info(_encode_line(line).decode())


class ControlCharacterMiddleware(ASGIMiddleware):
    """Control characters in the path or in a query parameter are a 400, whatever the route.

    Parameter patterns cannot do this alone: Python's `$` also matches before a final newline,
    so `^[^\\x00-\\x1f]*$` lets `hanon%0A` through; and most parameters have no pattern at all.
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if _CONTROL.search(scope["path"]):
            names = [
                name
                for name, value in scope.get("path_params", {}).items()
                if isinstance(value, str) and _CONTROL.search(value)
            ]
            raise InvalidInput.field(names[0] if names else "path", _NO_CONTROL)
        query = scope.get("query_string", b"")
        if b"%" in query or _CONTROL_BYTES.search(query):
            text = query.decode("latin-1")
            for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
                if _CONTROL.search(name) or _CONTROL.search(value):
                    raise InvalidInput.field(_CONTROL.sub("?", name), _NO_CONTROL)
        await next_app(scope, receive, send)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class WriteRateLimitMiddleware(ASGIMiddleware):
    """A token bucket per signed-in user for writes; over the limit is 429 with Retry-After.

    Buckets live in the worker process: with N workers a user gets up to N times the rate.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.buckets: dict[int, _Bucket] = {}

    def _take(self, user_id: int) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is free."""
        now = time.monotonic()
        bucket = self.buckets.get(user_id)
        if bucket is None:
            bucket = self.buckets[user_id] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        actor = scope.get("user")
        if (
            self.rate > 0
            and scope.get("method") in WRITE_METHODS
            and isinstance(actor, Actor)
            and actor.id is not None
        ):
            wait = self._take(actor.id)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise TooManyRequests(
                    f"Too many writes from this token; retry in {seconds} s.",
                    headers={"Retry-After": str(seconds)},
                )
        await next_app(scope, receive, send)
