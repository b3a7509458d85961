"""Categories and their spec definitions (market figures: `market`)."""

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.catalogue.detail import category_detail
from instcat.catalogue.lookup import (
    as_spec_reads,
    category_by_code,
    category_codes,
    descendants,
    spec_rows,
)
from instcat.catalogue.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    SpecDefinitionIn,
)
from instcat.catalogue.search import encode_json
from instcat.common import Page, audit, refuse_nulls, unique_or_conflict
from instcat.db import ROW_LOCK, Database
from instcat.errors import Conflict, InvalidInput
from instcat.models import Category, Product, ProductSpecValue, SpecDefinition
from instcat.models.base import utcnow
from instcat.text import like_pattern, query_forms, search_text


def category_search_text(category: Category) -> str:
    return search_text([category.code, category.name_zh, category.name_en, *category.aliases])


class CategoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _read(self, session: AsyncSession, category: Category) -> CategoryRead:
        tree = await category_codes(session)
        parent = tree[category.parent_id][0] if category.parent_id in tree else None
        return CategoryRead(
            code=category.code,
            name_zh=category.name_zh,
            name_en=category.name_en,
            aliases=list(category.aliases),
            parent=parent,
            description=category.description,
            specs=as_spec_reads(await spec_rows(session, [category.id or 0])),
        )

    async def list_categories(
        self, q: str | None, parent: str | None, limit: int, offset: int
    ) -> Page[CategoryRead]:
        """Categories matching a search text and/or under a parent, by code."""
        async with self.db.read() as session:
            query = select(Category)
            if q:
                forms = query_forms(q)
                query = query.where(
                    or_(
                        *(
                            col(Category.search_text).like(like_pattern(f), escape="\\")
                            for f in forms
                        )
                    )
                )
            if parent:
                # An unknown filter value is a 400 on the field, as for products and vendors.
                parent_id = await self._parent_id(session, parent, None)
                query = query.where(col(Category.parent_id) == parent_id)
            total = (
                await session.execute(select(func.count()).select_from(query.subquery()))
            ).scalar_one()
            rows = (
                await session.execute(
                    query.order_by(col(Category.code)).limit(limit).offset(offset)
                )
            ).scalars()
            tree = await category_codes(session)
            specs = await spec_rows(session)
            by_category: dict[int, list[SpecDefinition]] = {}
            for spec in specs:
                by_category.setdefault(spec.category_id, []).append(spec)
            items = [
                CategoryRead(
                    code=c.code,
                    name_zh=c.name_zh,
                    name_en=c.name_en,
                    aliases=list(c.aliases),
                    parent=tree[c.parent_id][0] if c.parent_id in tree else None,
                    description=c.description,
                    specs=as_spec_reads(by_category.get(c.id or 0, [])),
                )
                for c in rows
            ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def detail(self, code: str) -> dict[str, Any]:
        """A category with its spec definitions, subcategories and latest market figures.

        The result is the JSON of a CategoryDetail, built without models.
        """
        async with self.db.engine.connect() as connection:
            return await category_detail(connection, code)

    async def detail_json(self, code: str) -> bytes:
        """`detail()` encoded once, and kept for as long as the data revision stays."""

        async def compute(_revision: int | None) -> bytes:
            async with self.db.engine.connect() as connection:
                return encode_json(await category_detail(connection, code))

        return await self.db.answer(("category-detail", code), compute)

    async def _parent_id(
        self, session: AsyncSession, code: str | None, own_id: int | None
    ) -> int | None:
        if code is None:
            return None
        tree = await category_codes(session)
        parent_id = next((cid for cid, (c, _p) in tree.items() if c == code), None)
        if parent_id is None:
            raise InvalidInput.field("parent", f"unknown category {code!r}")
        if own_id is not None and parent_id in descendants(tree, own_id):
            raise InvalidInput.field("parent", "a category cannot sit under itself")
        return parent_id

    async def create(self, actor: Actor, data: CategoryCreate) -> CategoryRead:
        """Add a category with its spec definitions."""
        actor.require("admin")
        async with self.db.write() as session:
            exists = await session.execute(
                select(col(Category.id)).where(col(Category.code) == data.code)
            )
            if exists.first():
                raise Conflict(f"Category {data.code!r} already exists.")
            category = Category(
                code=data.code,
                name_zh=data.name_zh,
                name_en=data.name_en,
                aliases=list(data.aliases),
                parent_id=await self._parent_id(session, data.parent, None),
                description=data.description,
            )
            category.search_text = category_search_text(category)
            session.add(category)
            taken = f"Category {data.code!r} already exists."
            with unique_or_conflict("category", ["code"], taken):
                await session.flush()
            self._add_specs(session, category.id or 0, data.specs)
            await session.flush()
            await audit(session, actor, "create", "category", category.id, {"code": data.code})
            return await self._read(session, category)

    @staticmethod
    def _add_specs(session: AsyncSession, category_id: int, specs: list[SpecDefinitionIn]) -> None:
        for position, spec in enumerate(specs):
            session.add(
                SpecDefinition(category_id=category_id, position=position, **spec.model_dump())
            )

    async def update(self, actor: Actor, code: str, data: CategoryUpdate) -> CategoryRead:
        """Change a category; a new spec list may not drop or retype a spec products use."""
        actor.require("admin")
        changes = data.model_dump(exclude_unset=True)
        refuse_nulls(changes, ("parent", "description"))
        async with self.db.write() as session:
            category = await category_by_code(session, code)
            if "parent" in changes:
                parent_id = await self._parent_id(session, data.parent, category.id)
                if parent_id is not None:
                    await _still_acyclic(session, category.id or 0, parent_id)
                category.parent_id = parent_id
            for field in ("name_zh", "name_en", "aliases", "description"):
                if field in changes:
                    setattr(category, field, changes[field])
            if data.specs is not None:
                await self._replace_specs(session, category.id or 0, data.specs)
            category.search_text = category_search_text(category)
            category.updated_at = utcnow()
            category.version += 1
            session.add(category)
            await session.flush()
            await audit(
                session, actor, "update", "category", category.id, {"fields": sorted(changes)}
            )
            return await self._read(session, category)

    async def _replace_specs(
        self, session: AsyncSession, category_id: int, specs: list[SpecDefinitionIn]
    ) -> None:
        current = {s.key: s for s in await spec_rows(session, [category_id])}
        wanted = {s.key: s for s in specs}
        used = set(
            (
                await session.execute(
                    select(col(ProductSpecValue.key))
                    .distinct()
                    .where(col(ProductSpecValue.key).in_(list(current)))
                    .where(col(ProductSpecValue.product_id).in_(_products_of(category_id)))
                )
            ).scalars()
        )
        for key, row in current.items():
            if key in used and (key not in wanted or wanted[key].kind != row.kind):
                raise Conflict(
                    f"Spec {key!r} is used by products; it cannot be removed or retyped."
                )
        for key, row in current.items():
            if key not in wanted:
                await session.delete(row)
        for position, spec in enumerate(specs):
            existing = current.get(spec.key)
            if existing is None:
                session.add(
                    SpecDefinition(category_id=category_id, position=position, **spec.model_dump())
                )
            else:
                for field, value in spec.model_dump().items():
                    setattr(existing, field, value)
                existing.position = position
                session.add(existing)
        await session.flush()


async def _still_acyclic(session: AsyncSession, own_id: int, parent_id: int) -> None:
    """Check the new parent again on the tree as it is now, with every category row locked
    until this transaction ends; a cycle that only a concurrent commit made is a 409.

    On PostgreSQL two moves checked on the same tree (a under b, b under a) would otherwise
    both pass and store a cycle. Every move takes these locks (in id order, so that two
    never deadlock) and FOR NO KEY UPDATE also waits for any other change of a category
    row. The tree is read after the locks are held, so it shows every move committed
    before, and no parent in it can change until this move commits (a category created
    meanwhile has no children, and moving it takes the locks). SQLite's write transaction
    already holds the whole database: there the tree cannot have changed since
    `_parent_id` read it.
    """
    await session.execute(
        select(col(Category.id)).order_by(col(Category.id)).with_for_update(**ROW_LOCK)
    )
    tree = await category_codes(session)
    if parent_id in descendants(tree, own_id):
        raise Conflict(
            "The category tree changed meanwhile: under the new parent this category would "
            "now sit under itself. Reload and retry."
        )


def _products_of(category_id: int) -> Select[int | None]:
    return select(col(Product.id)).where(col(Product.category_id) == category_id)
