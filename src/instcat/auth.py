"""Bearer tokens, the acting user, and role checks."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard
from sqlalchemy import bindparam, select

from instcat.errors import Forbidden, Unauthorized
from instcat.models import User, Vendor
from instcat.models.base import table_of

STAFF = frozenset({"admin", "reviewer"})
TOKEN_PREFIX = "ic_"


def new_token() -> str:
    """A fresh random bearer token (shown once, stored only as a hash)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: high-entropy secrets need no slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making the request."""

    id: int | None
    name: str
    role: str
    vendor_id: int | None = None
    vendor_slug: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def require(self, *roles: str) -> None:
        """Allow only the given roles (admin always passes)."""
        if self.is_anonymous:
            raise Unauthorized()
        if self.role != "admin" and self.role not in roles:
            raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.")

    def acts_for_vendor(self, vendor_id: int) -> bool:
        """True for admin and for the vendor's own users."""
        return self.is_admin or (self.role == "vendor" and self.vendor_id == vendor_id)


ANONYMOUS = Actor(id=None, name="anonymous", role="anonymous")
# The command line acts as an admin with no user row (audit shows it as "system").
SYSTEM = Actor(id=None, name="system", role="admin")


_USERS = table_of(User)
_VENDORS = table_of(Vendor)
# Built once, on the tables rather than the ORM classes: this runs on every signed-in request
# and the ORM's per-statement work cost more than the lookup itself. Not cached across
# requests on purpose: a revoked token must stop working at once, in every process.
_TOKEN_LOOKUP = (
    select(_USERS.c.id, _USERS.c.name, _USERS.c.role, _USERS.c.vendor_id, _VENDORS.c.slug)
    .select_from(_USERS.outerjoin(_VENDORS, _VENDORS.c.id == _USERS.c.vendor_id))
    .where(_USERS.c.token_hash == bindparam("token_hash"), _USERS.c.revoked_at.is_(None))
)


class TokenAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Resolve the bearer token; no header means anonymous, a bad one is always 401."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header is None:
            return AuthenticationResult(user=ANONYMOUS, auth=None)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        if len(token) > 200:
            raise Unauthorized("Unknown or revoked token.")
        database = connection.app.state.db
        async with database.read() as session:
            row = (await session.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)})).first()
        if row is None:
            raise Unauthorized("Unknown or revoked token.")
        actor = Actor(id=row[0], name=row[1], role=row[2], vendor_id=row[3], vendor_slug=row[4])
        return AuthenticationResult(user=actor, auth=token)


def roles(*allowed: str) -> Guard:
    """A route guard: signed in with one of these roles (admin always passes).

    Guards run before the body is parsed, so an anonymous write is a 401, not a 400.
    """

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        actor = connection.scope.get("user")
        if not isinstance(actor, Actor) or actor.is_anonymous:
            raise Unauthorized()
        if allowed:
            actor.require(*allowed)

    return guard


# OpenAPI security of the routes behind `roles(...)`: a token is required there (the
# document's default, for public routes, is "no token or a valid one").
TOKEN_REQUIRED: list[dict[str, list[str]]] = [{"bearer": []}]


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """Dependency: the acting user of this request."""
    user = request.scope.get("user")
    return user if isinstance(user, Actor) else ANONYMOUS
