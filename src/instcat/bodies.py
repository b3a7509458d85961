"""Request bodies: JSON only, nested at most MAX_JSON_DEPTH levels, with no repeated keys.

The checks run before the JSON decoder sees the body. The decoder recurses once per level,
so a body of a few thousand `[` would otherwise end in a RecursionError (a 500); and it
keeps the last of repeated keys without a word, so `{"name": "a", "name": "b"}` would
silently mean "b".
"""

import json
import re
from typing import Any

from litestar import Litestar, Request
from litestar.routes import HTTPRoute

from instcat.errors import InvalidInput, UnsupportedMediaType, problem_responses

# No real body comes close: the deepest (a trial with paired results) has 3 levels.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")


def nested_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit` (malformed JSON too)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets: the common case, no scan
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return result


def repeated_key(body: bytes) -> str | None:
    """The first key repeated within one object of the body, if any."""
    if b"{" not in body:
        return None
    try:
        json.loads(body, object_pairs_hook=_object_without_repeats, parse_constant=str)
    except _RepeatedKey as repeated:
        return repeated.key
    except ValueError:  # not JSON at all: the real decoder says so, in its own words
        return None
    return None


def is_json_media_type(media_type: str) -> bool:
    """application/json, or a structured type on JSON such as application/merge-patch+json."""
    kind, _, subtype = media_type.strip().lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonBodyRequest(Request[Any, Any, Any]):
    """A request whose JSON body is checked before it is decoded."""

    async def json(self) -> Any:
        """The decoded body, once it is known to be JSON, shallow enough and unambiguous."""
        media_type, _options = self.content_type
        if not is_json_media_type(media_type):
            sent = media_type or "no Content-Type"
            raise UnsupportedMediaType(f"The body must be application/json, not {sent}.")
        body = await self.body()
        if nested_too_deep(body):
            raise InvalidInput.field("body", f"nested deeper than {MAX_JSON_DEPTH} levels")
        key = repeated_key(body)
        if key is not None:
            raise InvalidInput.field("body", f"the key {key!r} appears twice in one object")
        return await super().json()


def declare_json_body_problems(app: Litestar) -> None:
    """Add the 415 answer to the OpenAPI description of every route that takes a JSON body."""
    spec = problem_responses(415)[415]
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" in handler.parsed_fn_signature.parameters:
                handler.responses = {**(handler.responses or {}), 415: spec}
