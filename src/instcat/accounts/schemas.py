"""Users and audit records as the API shows them."""

from typing import Any, Literal

from pydantic import BaseModel

from instcat.common import Name, Slug, Strict, Timestamp

Role = Literal["admin", "reviewer", "vendor", "purchaser"]


class UserCreate(Strict):
    name: Name
    role: Role
    vendor: Slug | None = None


class UserRead(BaseModel):
    id: int
    name: str
    role: str
    vendor: str | None


class UserCreated(UserRead):
    token: str


class AuditActor(BaseModel):
    id: int | None
    name: str
    role: str


class AuditRead(BaseModel):
    id: int
    at: Timestamp
    actor: AuditActor | None
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any] | None
