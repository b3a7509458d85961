"""Query and header parameters shared by the controllers."""

from typing import Annotated

from litestar.params import HeaderParameter, QueryParameter

from instcat.common import DEFAULT_PAGE, MAX_PAGE

Limit = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_PAGE, description=f"Page size, 1–{MAX_PAGE} (default {DEFAULT_PAGE})"
    ),
]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="Items to skip")]
Search = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="Search text: Chinese, English, alias, abbreviation or pinyin",
    ),
]
CodeParam = Annotated[str | None, QueryParameter(max_length=40, description="Category code")]
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
