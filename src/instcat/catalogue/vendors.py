"""Vendors: profiles, service networks, and who may edit them."""

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.catalogue.lookup import subtree_ids, vendor_by_slug
from instcat.catalogue.schemas import ServiceRead, VendorCreate, VendorRead, VendorUpdate
from instcat.common import (
    Page,
    audit,
    check_if_match,
    lost_race,
    refuse_admin_only,
    refuse_nulls,
    unique_or_conflict,
)
from instcat.db import Database, rows_changed
from instcat.errors import Conflict, Forbidden
from instcat.models import Product, Vendor
from instcat.models.base import utcnow
from instcat.substitution.rules import DOMESTIC
from instcat.text import like_pattern, query_forms, search_text

# Defined with the grading rule, which decides what domestic means.
DOMESTIC_COUNTRY = DOMESTIC
# What a PATCH may set to null, and what only an admin may change.
NULLABLE = ("founded_year", "city", "website", "description")
ADMIN_ONLY = ("country", "illustrative")


def vendor_search_text(vendor: Vendor) -> str:
    return search_text([vendor.slug, vendor.name_zh, vendor.name_en, vendor.city])


def vendor_read(vendor: Vendor) -> VendorRead:
    return VendorRead(
        id=vendor.id or 0,
        slug=vendor.slug,
        name_zh=vendor.name_zh,
        name_en=vendor.name_en,
        country=vendor.country,
        domestic=vendor.country == DOMESTIC_COUNTRY,
        founded_year=vendor.founded_year,
        city=vendor.city,
        website=vendor.website,
        service=ServiceRead(
            regions=list(vendor.service_regions), response_hours=vendor.response_hours
        ),
        certifications=list(vendor.certifications),
        description=vendor.description,
        illustrative=vendor.illustrative,
        source=vendor.source,
        version=vendor.version,
        created_at=vendor.created_at,
        updated_at=vendor.updated_at,
    )


class VendorService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_vendors(
        self, q: str | None, domestic: bool | None, category: str | None, limit: int, offset: int
    ) -> Page[VendorRead]:
        """Vendors by search text, home country and the categories they make."""
        async with self.db.read() as session:
            query = select(Vendor)
            if q:
                query = query.where(
                    or_(
                        *(
                            col(Vendor.search_text).like(like_pattern(f), escape="\\")
                            for f in query_forms(q)
                        )
                    )
                )
            if domestic is not None:
                is_cn = col(Vendor.country) == DOMESTIC_COUNTRY
                query = query.where(is_cn if domestic else ~is_cn)
            if category:
                ids = await subtree_ids(session, category)
                makers = select(col(Product.vendor_id)).where(col(Product.category_id).in_(ids))
                query = query.where(col(Vendor.id).in_(makers))
            total = (
                await session.execute(select(func.count()).select_from(query.subquery()))
            ).scalar_one()
            rows = await session.execute(
                query.order_by(col(Vendor.slug)).limit(limit).offset(offset)
            )
            items = [vendor_read(v) for v in rows.scalars()]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def get(self, slug: str) -> VendorRead:
        async with self.db.read() as session:
            return vendor_read(await vendor_by_slug(session, slug))

    async def create(self, actor: Actor, data: VendorCreate) -> VendorRead:
        """Add a vendor (admin)."""
        actor.require("admin")
        async with self.db.write() as session:
            taken = await session.execute(
                select(col(Vendor.id)).where(col(Vendor.slug) == data.slug)
            )
            if taken.first():
                raise Conflict(f"Vendor {data.slug!r} already exists.")
            vendor = Vendor(
                slug=data.slug,
                name_zh=data.name_zh,
                name_en=data.name_en,
                country=data.country,
                founded_year=data.founded_year,
                city=data.city,
                website=data.website,
                service_regions=list(data.service.regions),
                response_hours=data.service.response_hours,
                certifications=list(data.certifications),
                description=data.description,
                source=data.source.model_dump() if data.source else None,
                illustrative=data.illustrative,
            )
            vendor.search_text = vendor_search_text(vendor)
            session.add(vendor)
            with unique_or_conflict("vendor", ["slug"], f"Vendor {data.slug!r} already exists."):
                await session.flush()
            await audit(session, actor, "create", "vendor", vendor.id, {"slug": vendor.slug})
            return vendor_read(vendor)

    async def update(
        self, actor: Actor, slug: str, data: VendorUpdate, if_match: str | None
    ) -> VendorRead:
        """Change a vendor profile (admin, or that vendor except `country` and
        `illustrative`); a partial `service` merges into the stored one."""
        actor.require("admin", "vendor")
        changes = data.model_dump(exclude_unset=True)
        refuse_nulls(changes, NULLABLE)
        async with self.db.write() as session:
            # Without If-Match the row is locked before it is read (as for products), so
            # that concurrent edits wait for each other instead of losing the versioned
            # update of `_save`; with If-Match a concurrent change is a 412.
            vendor = await vendor_by_slug(session, slug, lock=if_match is None)
            if not actor.acts_for_vendor(vendor.id or 0):
                raise Forbidden("Only the vendor itself or an admin may edit this profile.")
            refuse_admin_only(actor, changes, vendor, ADMIN_ONLY, "vendor")
            check_if_match(if_match, vendor.version)
            values = self._column_values(changes)
            await self._save(session, vendor, values, precondition=if_match is not None)
            await audit(session, actor, "update", "vendor", vendor.id, {"fields": sorted(changes)})
            await session.refresh(vendor)
            return vendor_read(vendor)

    @staticmethod
    def _column_values(changes: dict[str, Any]) -> dict[str, Any]:
        values = {k: v for k, v in changes.items() if k != "service"}
        # Only the service fields sent are written: the rest stay as stored (the versioned
        # update of `_save` makes sure that nobody changed them meanwhile).
        service = changes.get("service", {})
        if "regions" in service:
            values["service_regions"] = list(service["regions"])
        if "response_hours" in service:
            values["response_hours"] = service["response_hours"]
        return values

    async def _save(
        self, session: AsyncSession, vendor: Vendor, values: dict[str, Any], *, precondition: bool
    ) -> None:
        # The version check makes a concurrent edit fail instead of being silently lost.
        merged = vendor.model_copy(update=values)
        values["search_text"] = vendor_search_text(merged)
        changed = await rows_changed(
            session,
            update(Vendor)
            .where(col(Vendor.id) == vendor.id, col(Vendor.version) == vendor.version)
            .values(**values, version=vendor.version + 1, updated_at=utcnow()),
        )
        if changed != 1:
            raise lost_race("vendor", precondition)
