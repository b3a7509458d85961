"""Shared request/response pieces: clean text types, pagination, ETags, audit records."""

import math
import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from litestar.datastructures import ResponseHeader
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.auth import Actor
from instcat.errors import Conflict, DomainError, Forbidden, InvalidInput, PreconditionFailed
from instcat.models import AuditEvent

MAX_PAGE = 200
DEFAULT_PAGE = 50

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    # PostgreSQL rejects NUL in text while SQLite stores it: refuse it everywhere.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_no_control_characters),
]
LongText = Annotated[
    str,
    StringConstraints(max_length=10_000),
    AfterValidator(_no_control_characters),
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://\S+$"),
    AfterValidator(_no_control_characters),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,79}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Finite = Annotated[float, AfterValidator(_finite)]
Year = Annotated[int, AfterValidator(lambda y: _year(y))]
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"), return_type=str),
]


def _iso_date(value: Any) -> Any:
    # JSON has no date type: take ISO 8601 strings (2026-03-01) and nothing looser.
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else value
        except ValueError:
            return value
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _year(value: int) -> int:
    if not 1800 <= value <= 2100:
        raise ValueError("must be a year between 1800 and 2100")
    return value


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, and types are not coerced ("5" is no number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The collection envelope."""

    items: list[T]
    total: int
    limit: int
    offset: int


def etag_for(version: int) -> str:
    """The strong ETag of a row version."""
    return f'"{version}"'


# OpenAPI: the ETag that GET of a vendor, product or trial always carries.
ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        documentation_only=True,
        value=etag_for(1),  # documentation only: gives the header's type, never sent
        required=True,
        description="The record's version; send it back as If-Match to change the record",
    )
]


def check_if_match(if_match: str | None, version: int) -> None:
    """Stale If-Match is a 412; no header means no precondition."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return
    current = etag_for(version)
    if not any(tag.removeprefix("W/") == current for tag in tags):
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the current version {current}."
        )


def refuse_nulls(changes: dict[str, Any], nullable: Collection[str]) -> None:
    """A 400 naming each field that a PATCH sets to null but that cannot be empty (every
    field not in `nullable`)."""
    wrong = [field for field, value in changes.items() if value is None and field not in nullable]
    if wrong:
        errors = [(field, "may not be null") for field in wrong]
        raise InvalidInput("; ".join(f"{f}: {m}" for f, m in errors), errors)


def refuse_admin_only(
    actor: Actor, changes: dict[str, Any], stored: object, fields: Collection[str], entity: str
) -> None:
    """A 403 when anyone but an admin changes one of `fields` of `stored`; sending the
    stored value back is no change, so that a client may PATCH what it read."""
    if actor.is_admin:
        return
    for field in fields:
        if field in changes and changes[field] != getattr(stored, field):
            raise Forbidden(f"Only an admin may change a {entity}'s {field}.")


def _unique_clash(error: IntegrityError, table: str, columns: Sequence[str]) -> bool:
    """Whether `error` is the unique constraint on `table`(`columns`) refusing a row."""
    cause = error.orig
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:  # PostgreSQL names the constraint (see models.base naming)
        name = getattr(getattr(cause, "diag", None), "constraint_name", None)
        return sqlstate == "23505" and name == f"uq_{table}_{'_'.join(columns)}"
    # SQLite names the columns instead.
    return str(cause) == "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in columns)


@contextmanager
def unique_or_conflict(table: str, columns: Sequence[str], message: str) -> Iterator[None]:
    """Turn the unique constraint on `table`(`columns`) refusing a write into a 409 with
    `message`. A check before the write cannot settle a race: on PostgreSQL two concurrent
    writers both pass it, and the index decides."""
    try:
        yield
    except IntegrityError as error:
        if _unique_clash(error, table, columns):
            raise Conflict(message) from error
        raise


def lost_race(entity: str, precondition: bool) -> DomainError:
    """The error for a versioned update that found the row already changed."""
    message = f"The {entity} was changed by someone else meanwhile; reload and retry."
    return PreconditionFailed(message) if precondition else Conflict(message)


async def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a write in the same transaction as the write itself."""
    session.add(
        AuditEvent(
            actor_id=actor.id, action=action, entity=entity, entity_id=entity_id, detail=detail
        )
    )
