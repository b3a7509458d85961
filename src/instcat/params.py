"""Query and header parameters shared by the controllers."""

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter

from instcat.common import DEFAULT_PAGE, MAX_PAGE

Limit = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_PAGE, description=f"Page size, 1–{MAX_PAGE} (default {DEFAULT_PAGE})"
    ),
]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="Items to skip")]
# PostgreSQL refuses NUL in text: control characters in query strings are a 400 up front.
# This pattern documents the rule (in OpenAPI's regex dialect `$` is the very end); the server
# enforces it for every path and query value in ControlCharacterMiddleware, since Python's
# `$` also matches before a final newline.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Search = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        pattern=PRINTABLE,
        description="Search text: Chinese, English, alias, abbreviation or pinyin",
    ),
]
CodeParam = Annotated[
    str | None, QueryParameter(max_length=40, pattern=PRINTABLE, description="Category code")
]
SlugParam = Annotated[
    str | None, QueryParameter(max_length=80, pattern=PRINTABLE, description="Vendor slug")
]
CodePath = Annotated[str, PathParameter(max_length=40, pattern=PRINTABLE)]
SlugPath = Annotated[str, PathParameter(max_length=80, pattern=PRINTABLE)]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="ETag from a previous GET"),
]
Domestic = Annotated[
    bool | None,
    QueryParameter(description="true: home country CN; false: foreign vendors"),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Retry-safe key: the same key and body again returns the first response",
    ),
]
# Ids are 32-bit in the database: anything larger cannot exist and is refused up front.
MAX_ID = 2**31 - 1
IdPath = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="Numeric id")]
