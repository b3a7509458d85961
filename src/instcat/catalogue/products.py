"""Products: specs checked against their category, search and spec filters."""

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.catalogue.lookup import as_spec_defs, category_by_code, spec_rows, vendor_by_slug
from instcat.catalogue.memory_search import search_in_memory
from instcat.catalogue.schemas import ProductCreate, ProductRead, ProductUpdate
from instcat.catalogue.search import SearchCriteria, encode_json, search_page
from instcat.catalogue.specs import check_specs, index_rows, normalise_specs
from instcat.catalogue.vendors import DOMESTIC_COUNTRY
from instcat.common import (
    audit,
    check_if_match,
    lost_race,
    refuse_admin_only,
    refuse_nulls,
    unique_or_conflict,
)
from instcat.db import ROW_LOCK, Database, rows_changed
from instcat.errors import Conflict, Forbidden, InvalidInput, NotFound
from instcat.models import Category, Product, ProductSpecValue, Vendor
from instcat.models.base import utcnow
from instcat.text import search_text

# What a PATCH may set to null, and what only an admin may change.
NULLABLE = ("launch_year", "price_band")
ADMIN_ONLY = ("illustrative",)
_READ_COLUMNS = (
    Product,
    col(Vendor.slug),
    col(Vendor.name_zh),
    col(Vendor.name_en),
    col(Vendor.country),
    col(Category.code),
    col(Category.name_zh),
    col(Category.name_en),
)


def product_select() -> Select[*tuple[Any, ...]]:
    """Products joined with what a ProductRead shows of their vendor and category."""
    return (
        select(*_READ_COLUMNS)
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .join(Category, col(Category.id) == col(Product.category_id))
    )


def product_read(row: Any) -> ProductRead:
    """Build a ProductRead from a row of `product_select()`."""
    product: Product = row[0]
    return ProductRead(
        id=product.id or 0,
        vendor=row[1],
        vendor_name_zh=row[2],
        vendor_name_en=row[3],
        category=row[5],
        category_name_zh=row[6],
        category_name_en=row[7],
        model=product.model,
        name=product.name,
        specs=dict(product.specs),
        made_in=product.made_in,
        domestic=row[4] == DOMESTIC_COUNTRY,
        launch_year=product.launch_year,
        status=product.status,
        price_band=product.price_band,
        illustrative=product.illustrative,
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


class ProductService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, criteria: SearchCriteria) -> dict[str, Any]:
        """Products by search text, category (with subcategories), vendor, origin and specs.

        The result is the JSON of a Page[ProductRead], built without per-row models.
        """
        async with self.db.engine.connect() as connection:
            return await search_page(connection, criteria)

    async def search_json(self, criteria: SearchCriteria) -> bytes:
        """`search()` encoded once, and kept for as long as the data revision stays (the
        answer is the same for every caller)."""

        async def compute(revision: int | None) -> bytes:
            body = await search_in_memory(self.db, revision, criteria)
            if body is None:
                async with self.db.engine.connect() as connection:
                    body = encode_json(await search_page(connection, criteria))
            return body

        return await self.db.answer(("product-search", criteria), compute)

    async def get(self, product_id: int) -> ProductRead:
        async with self.db.read() as session:
            return await self._get_read(session, product_id)

    async def _get_read(self, session: AsyncSession, product_id: int) -> ProductRead:
        row = (await session.execute(product_select().where(col(Product.id) == product_id))).first()
        if row is None:
            raise NotFound("product", product_id)
        return product_read(row)

    async def _checked_specs(
        self, session: AsyncSession, category_id: int, specs: dict[str, Any]
    ) -> dict[str, Any]:
        errors = check_specs(as_spec_defs(await spec_rows(session, [category_id])), specs)
        if errors:
            raise InvalidInput("Specs do not fit the category's spec definitions.", errors)
        return normalise_specs(specs)

    @staticmethod
    def _search_text(product: Product, vendor: Vendor, category: Category) -> str:
        return search_text(
            [
                product.model,
                product.name,
                vendor.name_zh,
                vendor.name_en,
                category.code,
                category.name_zh,
                category.name_en,
                *category.aliases,
            ]
        )

    @staticmethod
    async def _index_specs(session: AsyncSession, product_id: int, specs: dict[str, Any]) -> None:
        await session.execute(
            delete(ProductSpecValue).where(col(ProductSpecValue.product_id) == product_id)
        )
        session.add_all(
            ProductSpecValue(product_id=product_id, key=key, num_value=num, text_value=text)
            for key, num, text in index_rows(specs)
        )

    async def create(self, actor: Actor, data: ProductCreate) -> ProductRead:
        """Add a product (its own vendor, or admin)."""
        actor.require("admin", "vendor")
        async with self.db.write() as session:
            vendor = await self._vendor_for_write(session, actor, data.vendor)
            category = await self._category_field(session, data.category)
            specs = await self._checked_specs(session, category.id or 0, data.specs)
            await self._model_free(session, vendor.id or 0, data.model, None)
            product = Product(
                **data.model_dump(exclude={"vendor", "category", "specs"}),
                vendor_id=vendor.id or 0,
                category_id=category.id or 0,
                specs=specs,
            )
            product.search_text = self._search_text(product, vendor, category)
            session.add(product)
            with _model_taken(data.model):
                await session.flush()
            await self._index_specs(session, product.id or 0, specs)
            await audit(session, actor, "create", "product", product.id, {"model": product.model})
            await session.flush()
            return await self._get_read(session, product.id or 0)

    async def update(
        self, actor: Actor, product_id: int, data: ProductUpdate, if_match: str | None
    ) -> ProductRead:
        """Change a product (its own vendor, or admin); specs merge, null removes a key."""
        actor.require("admin", "vendor")
        changes = data.model_dump(exclude_unset=True)
        refuse_nulls(changes, NULLABLE)
        # Without If-Match the client asks for its fields to be written whatever the version:
        # the row lock (ROW_LOCK) makes concurrent edits wait, so the version read here is
        # the latest and the versioned update below cannot lose. With If-Match there is no
        # lock: a concurrent change makes the update match no row, a 412 as asked.
        lock = if_match is None
        async with self.db.write() as session:
            product = await session.get(
                Product,
                product_id,
                with_for_update=ROW_LOCK if lock else None,
                populate_existing=lock,
            )
            if product is None:
                raise NotFound("product", product_id)
            if not actor.acts_for_vendor(product.vendor_id):
                raise Forbidden("Only the owning vendor or an admin may edit this product.")
            refuse_admin_only(actor, changes, product, ADMIN_ONLY, "product")
            check_if_match(if_match, product.version)
            vendor = await session.get(Vendor, product.vendor_id)
            category = await session.get(Category, product.category_id)
            if "category" in changes:
                category = await self._category_field(session, changes["category"])
            # Both are foreign keys of the product, so both rows exist.
            assert vendor is not None and category is not None
            values = {k: v for k, v in changes.items() if k not in ("category", "specs")}
            specs = dict(product.specs)
            for key, value in (changes.get("specs") or {}).items():
                if value is None:
                    specs.pop(key, None)
                else:
                    specs[key] = value
            specs = await self._checked_specs(session, category.id or 0, specs)
            if "model" in changes:
                await self._model_free(session, product.vendor_id, changes["model"], product.id)
            merged = product.model_copy(update=values)
            values.update(
                category_id=category.id,
                specs=specs,
                search_text=self._search_text(merged, vendor, category),
                version=product.version + 1,
                updated_at=utcnow(),
            )
            with _model_taken(changes.get("model", product.model)):
                changed = await rows_changed(
                    session,
                    update(Product)
                    .where(col(Product.id) == product_id, col(Product.version) == product.version)
                    .values(**values),
                )
            if changed != 1:
                raise lost_race("product", if_match is not None)
            await self._index_specs(session, product_id, specs)
            await audit(
                session, actor, "update", "product", product_id, {"fields": sorted(changes)}
            )
            await session.flush()
            session.expire_all()
            return await self._get_read(session, product_id)

    async def _vendor_for_write(self, session: AsyncSession, actor: Actor, slug: str) -> Vendor:
        try:
            vendor = await vendor_by_slug(session, slug)
        except NotFound as missing:
            raise InvalidInput.field("vendor", f"unknown vendor {slug!r}") from missing
        if not actor.acts_for_vendor(vendor.id or 0):
            raise Forbidden("A vendor may create products in its own name only.")
        return vendor

    async def _category_field(self, session: AsyncSession, code: str) -> Category:
        try:
            return await category_by_code(session, code)
        except NotFound as missing:
            raise InvalidInput.field("category", f"unknown category {code!r}") from missing

    async def _model_free(
        self, session: AsyncSession, vendor_id: int, model: str, own_id: int | None
    ) -> None:
        query = select(col(Product.id)).where(
            col(Product.vendor_id) == vendor_id, col(Product.model) == model
        )
        found = (await session.execute(query)).scalar()
        if found is not None and found != own_id:
            raise Conflict(f"This vendor already has a product with model {model!r} (id {found}).")


def _model_taken(model: str) -> AbstractContextManager[None]:
    """A 409 when the product's (vendor, model) is already taken by the time it is written
    (another write may take it after `_model_free` looked)."""
    message = f"This vendor already has a product with model {model!r}."
    return unique_or_conflict("product", ["vendor_id", "model"], message)
