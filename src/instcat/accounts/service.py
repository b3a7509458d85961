"""Users, tokens and the audit trail."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.accounts.schemas import AuditActor, AuditRead, UserCreate, UserCreated
from instcat.auth import Actor, hash_token, new_token
from instcat.common import Page, audit
from instcat.db import Database
from instcat.errors import InvalidInput, NotFound
from instcat.models import AuditEvent, User, Vendor
from instcat.models.base import utcnow

AUDIT_ENTITIES = (
    "category",
    "market_figure",
    "vendor",
    "product",
    "trial",
    "feedback",
    "substitution_list",
    "user",
)


class AccountService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_user(self, actor: Actor, data: UserCreate) -> UserCreated:
        """Add a user and return its token, the only time it is shown."""
        actor.require("admin")
        async with self.db.write() as session:
            return await create_user(session, actor, data)

    async def revoke(self, actor: Actor, user_id: int) -> None:
        """Revoke a user's token."""
        actor.require("admin")
        async with self.db.write() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound("user", user_id)
            if user.revoked_at is None:
                user.revoked_at = utcnow()
                session.add(user)
                await audit(session, actor, "revoke", "user", user_id)

    async def list_audit(
        self,
        actor: Actor,
        entity: str | None,
        entity_id: int | None,
        actor_id: int | None,
        limit: int,
        offset: int,
    ) -> Page[AuditRead]:
        """The audit trail, newest first (staff only)."""
        actor.require("reviewer")
        if entity is not None and entity not in AUDIT_ENTITIES:
            raise InvalidInput.field("entity", f"one of {', '.join(AUDIT_ENTITIES)}")
        async with self.db.read() as session:
            query = select(AuditEvent, col(User.name), col(User.role)).outerjoin(
                User, col(User.id) == col(AuditEvent.actor_id)
            )
            if entity is not None:
                query = query.where(col(AuditEvent.entity) == entity)
            if entity_id is not None:
                query = query.where(col(AuditEvent.entity_id) == entity_id)
            if actor_id is not None:
                query = query.where(col(AuditEvent.actor_id) == actor_id)
            total = (
                await session.execute(
                    select(func.count()).select_from(
                        query.with_only_columns(col(AuditEvent.id)).subquery()
                    )
                )
            ).scalar_one()
            rows = await session.execute(
                query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
                .limit(limit)
                .offset(offset)
            )
            items = [
                AuditRead(
                    id=event.id or 0,
                    at=event.at,
                    actor=AuditActor(id=event.actor_id, name=name, role=role)
                    if event.actor_id is not None
                    else AuditActor(id=None, name="system", role="system"),
                    action=event.action,
                    entity=event.entity,
                    entity_id=event.entity_id,
                    detail=event.detail,
                )
                for event, name, role in rows
            ]
        return Page(items=items, total=total, limit=limit, offset=offset)


async def create_user(session: AsyncSession, actor: Actor, data: UserCreate) -> UserCreated:
    """Insert a user inside the caller's transaction (used by the API and the CLI)."""
    vendor_id = None
    if data.role == "vendor":
        if not data.vendor:
            raise InvalidInput.field("vendor", "required for the vendor role")
        vendor = (
            await session.execute(select(Vendor).where(col(Vendor.slug) == data.vendor))
        ).scalar()
        if vendor is None:
            raise InvalidInput.field("vendor", f"unknown vendor {data.vendor!r}")
        vendor_id = vendor.id
    elif data.vendor is not None:
        raise InvalidInput.field("vendor", "only users with the vendor role belong to a vendor")
    token = new_token()
    user = User(name=data.name, role=data.role, vendor_id=vendor_id, token_hash=hash_token(token))
    session.add(user)
    await session.flush()
    await audit(session, actor, "create", "user", user.id, {"role": data.role})
    return UserCreated(
        id=user.id or 0, name=user.name, role=user.role, vendor=data.vendor, token=token
    )
