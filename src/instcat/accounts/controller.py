"""HTTP routes for users and the audit trail."""

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from instcat.accounts.schemas import AuditRead, UserCreate, UserCreated
from instcat.accounts.service import AccountService
from instcat.auth import TOKEN_REQUIRED, Actor, roles
from instcat.common import DEFAULT_PAGE, Page
from instcat.deps import provide_service
from instcat.errors import problem_responses
from instcat.params import MAX_ID, PRINTABLE, IdPath, Limit, Offset


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    dependencies = {"accounts": provide_service(AccountService)}

    @post(
        "/", guards=[roles("admin")], security=TOKEN_REQUIRED, responses=problem_responses(403, 429)
    )
    async def create_user(
        self,
        accounts: NamedDependency[AccountService],
        actor: NamedDependency[Actor],
        data: JSONBody[UserCreate],
    ) -> UserCreated:
        """Add a user (admin). The token is in this response only; just its hash is stored."""
        return await accounts.create_user(actor, data)

    @post(
        "/{user_id:int}/revoke",
        status_code=204,
        guards=[roles("admin")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 429),
    )
    async def revoke_user(
        self,
        accounts: NamedDependency[AccountService],
        actor: NamedDependency[Actor],
        user_id: IdPath,
    ) -> None:
        """Revoke a user's token (admin)."""
        await accounts.revoke(actor, user_id)


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    dependencies = {"accounts": provide_service(AccountService)}

    @get("/", guards=[roles("reviewer")], security=TOKEN_REQUIRED, responses=problem_responses(403))
    async def list_audit(
        self,
        accounts: NamedDependency[AccountService],
        actor: NamedDependency[Actor],
        entity: Annotated[str | None, QueryParameter(max_length=40, pattern=PRINTABLE)] = None,
        entity_id: Annotated[int | None, QueryParameter(ge=0, le=MAX_ID)] = None,
        actor_id: Annotated[int | None, QueryParameter(name="actor", ge=0, le=MAX_ID)] = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[AuditRead]:
        """Who changed what and when, newest first (admin, reviewer)."""
        return await accounts.list_audit(actor, entity, entity_id, actor_id, limit, offset)
