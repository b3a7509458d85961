"""Loading one category at a time for list generation: Core selects, plain dicts, no ORM.

Products come out already in the JSON shape of `ProductRead` (the list stores them as they
were), feedback summaries are aggregated by the database, and nothing is loaded through a
long `IN` list, so memory follows the largest category rather than the whole catalogue.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from msgspec.json import decode
from sqlalchemy import Text, cast, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.specs import SpecDef
from instcat.models import Category, Product, Vendor
from instcat.substitution.evidence_rows import (
    Shared,
    core_rows,
    load_feedback,
    load_trial_rows,
    trial_evidence,
)
from instcat.substitution.rules import DOMESTIC, TrialEvidence, is_domestic

STAMP = "%Y-%m-%dT%H:%M:%SZ"  # how `Timestamp` fields are written


def stamp(value: datetime | str) -> str:
    """A stored timestamp as `Timestamp` writes it (UTC, whole seconds)."""
    if isinstance(value, str):
        if len(value) == 20 and value[10] == "T" and value[19] == "Z":
            return value  # already written so (by the server: `_stamped`)
        if len(value) >= 19 and value[10] == " " and "+" not in value[19:]:
            # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
            return f"{value[:10]}T{value[11:19]}Z"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(STAMP)


@dataclass(frozen=True, slots=True)
class VendorInfo:
    slug: str
    name_zh: str
    name_en: str
    domestic: bool
    response_hours: float | None
    regions: list[str]


@dataclass
class CategoryRows:
    """One category's products (as ProductRead JSON less the vendor's and the category's
    names: `with_names` adds them), definitions, trials and feedback."""

    code: str
    definitions: list[SpecDef]
    products: list[dict[str, Any]]
    trials: dict[int, list[TrialEvidence]] = field(default_factory=dict)
    feedback: dict[int, Any] = field(default_factory=dict)  # `load_feedback` rows
    name_zh: str = ""
    name_en: str = ""


@dataclass
class Catalogue:
    """What every category shares: category names, spec definitions and vendors."""

    categories: dict[int, tuple[str, str, str]]
    definitions: dict[int, list[SpecDef]]
    vendors: dict[int, VendorInfo]
    by_slug: dict[str, VendorInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_slug = {v.slug: v for v in self.vendors.values()}

    def service(self, slug: str) -> dict[str, Any]:
        """The vendor's service figures as an entry's evidence shows them."""
        vendor = self.by_slug.get(slug)
        if vendor is None:
            return {"response_hours": None, "regions": []}
        hours = vendor.response_hours
        figure = None if hours is None else float(hours)
        return {"response_hours": figure, "regions": vendor.regions}


async def load_catalogue(session: AsyncSession, category_ids: list[int]) -> Catalogue:
    """Category names, spec definitions and every vendor (a few thousand rows)."""
    categories = {
        cid: (code, zh, en)
        for cid, code, zh, en in await core_rows(
            session,
            select(
                col(Category.id), col(Category.code), col(Category.name_zh), col(Category.name_en)
            ),
        )
    }
    definitions: dict[int, list[SpecDef]] = defaultdict(list)
    for spec in await spec_rows(session, category_ids if len(category_ids) < 500 else None):
        definitions[spec.category_id].append(as_spec_defs([spec])[spec.key])
    vendors = {
        row[0]: VendorInfo(row[1], row[2], row[3], row[4] == DOMESTIC, row[5], list(row[6]))
        for row in await core_rows(
            session,
            select(
                col(Vendor.id),
                col(Vendor.slug),
                col(Vendor.name_zh),
                col(Vendor.name_en),
                col(Vendor.country),
                col(Vendor.response_hours),
                col(Vendor.service_regions),
            ),
        )
    }
    return Catalogue(categories, dict(definitions), vendors)


def _stamped(column: Any) -> Any:
    """A PostgreSQL timestamp written as `stamp` writes it, by the server."""
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def _raw_columns(dialect: str) -> tuple[Any, Any, Any]:
    """Product specs as JSON text, and the two timestamps as text: decoded and formatted
    here, far faster than the column types (and psycopg's JSON loader) would."""
    if dialect == "postgresql":
        return (
            cast(col(Product.specs), Text),
            _stamped(col(Product.created_at)),
            _stamped(col(Product.updated_at)),
        )
    return (
        type_coerce(col(Product.specs), Text),
        type_coerce(col(Product.created_at), Text),
        type_coerce(col(Product.updated_at), Text),
    )


@dataclass
class CategoryRead:
    """One category as read, in plain rows (cheap to send to another process): products
    as `_product_query` selects them, accepted trials per product (`TrialEvidence` fields)
    and published feedback per product (`load_feedback` rows)."""

    category_id: int
    products: list[tuple[Any, ...]]
    trials: dict[int, list[tuple[Any, ...]]]
    feedback: dict[int, Any]


def _product_query(dialect: str, category_id: int) -> Any:
    specs_text, created, updated = _raw_columns(dialect)
    return (
        select(
            col(Product.id),
            col(Product.vendor_id),
            col(Product.model),
            col(Product.name),
            specs_text,
            col(Product.made_in),
            col(Product.launch_year),
            col(Product.status),
            col(Product.price_band),
            col(Product.illustrative),
            col(Product.version),
            created,
            updated,
        )
        .where(col(Product.category_id) == category_id)
        .order_by(col(Product.id))
    )


async def read_category(
    session: AsyncSession,
    category_id: int,
    trial_cutoff: date | None,
    shared: Shared | None = None,
) -> CategoryRead:
    """Products, accepted trials and published feedback of one category, as rows.

    With `shared`, trials and feedback come from it instead of per-category queries.
    """
    connection = await session.connection()
    rows = await connection.execute(_product_query(connection.dialect.name, category_id))
    products = [tuple(row) for row in rows]
    in_category = col(Product.category_id) == category_id
    if shared is None:
        trials = await load_trial_rows(session, trial_cutoff, in_category)
        feedback = await load_feedback(session, in_category)
    else:
        ids = [row[0] for row in products]
        trials = {pid: shared.trials[pid] for pid in ids if pid in shared.trials}
        feedback = {pid: shared.feedback[pid] for pid in ids if pid in shared.feedback}
    return CategoryRead(category_id, products, trials, feedback)


def shape_category(
    read: CategoryRead, catalogue: Catalogue, rule: str | None = None
) -> CategoryRows:
    """A category's rows in the shapes grading and lists use: products as `ProductRead`
    JSON without the names a list stores once (`with_names`), trials as `TrialEvidence`
    (pure: runs wherever the category is built). With a domestic `rule`, only the trials
    of active domestic products (the candidates) are kept."""
    code, name_zh, name_en = catalogue.categories[read.category_id]
    products = []
    for (
        pid,
        vid,
        model,
        name,
        specs,
        made_in,
        launch,
        status,
        band,
        illus,
        ver,
        cr,
        up,
    ) in read.products:
        vendor = catalogue.vendors[vid]
        products.append(
            {
                "id": pid,
                "vendor": vendor.slug,
                "category": code,
                "model": model,
                "name": name,
                "specs": specs if isinstance(specs, dict) else decode(specs),
                "made_in": made_in,
                "domestic": vendor.domestic,
                "launch_year": launch,
                "status": status,
                "price_band": band,
                "illustrative": illus,
                "version": ver,
                "created_at": stamp(cr),
                "updated_at": stamp(up),
            }
        )
    kept = read.trials
    if rule is not None:
        kept = {
            p["id"]: read.trials[p["id"]]
            for p in products
            if p["id"] in read.trials and is_candidate_row(p, rule)
        }
    trials = {pid: [trial_evidence(row) for row in rows] for pid, rows in kept.items()}
    definitions = catalogue.definitions.get(read.category_id, [])
    return CategoryRows(code, definitions, products, trials, read.feedback, name_zh, name_en)


def with_names(
    product: dict[str, Any],
    vendor: dict[str, Any],
    category: dict[str, Any],
) -> dict[str, Any]:
    """A product of `shape_category` as `ProductRead` JSON: with its vendor's and its
    category's names (`name_zh`, `name_en` of each)."""
    return {
        **product,
        "vendor_name_zh": vendor["name_zh"],
        "vendor_name_en": vendor["name_en"],
        "category_name_zh": category["name_zh"],
        "category_name_en": category["name_en"],
    }


def is_domestic_row(product: dict[str, Any], rule: str) -> bool:
    """`rules.is_domestic` for a product snapshot."""
    domestic: bool = is_domestic(product["domestic"], product["made_in"] == DOMESTIC, rule)
    return domestic


def is_candidate_row(product: dict[str, Any], rule: str) -> bool:
    """Whether a product snapshot may go on a list: active and domestic under `rule`."""
    return product["status"] == "active" and is_domestic_row(product, rule)
