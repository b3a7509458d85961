"""Loading one category's grading index: a few column selects, no ORM objects."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.search import product_dicts
from instcat.feedback.schemas import DIMENSIONS
from instcat.feedback.service import summary_figures
from instcat.models import Feedback, Product, Trial, Vendor
from instcat.substitution.evidence import DOMESTIC
from instcat.substitution.grading import TrialEvidence
from instcat.substitution.ranking import CategoryIndex

ACTIVE = "active"


@dataclass
class CategoryFacts:
    """A category's index plus what candidates show beside their grade."""

    index: CategoryIndex
    # Published feedback per product: (count, rounded mean per dimension, overall).
    feedback: dict[int, tuple[int, dict[str, float], float | None]]
    service: dict[str, tuple[float | None, list[str]]]
    # Every product of the category as the API writes it (ProductRead JSON), by id.
    shown: dict[int, msgspec.Raw]
    vendor_of: dict[int, str]
    # Spec columns for product search, built the first time a search filters on the key.
    search_columns: dict[str, Any] = field(default_factory=dict)

    def feedback_json(self, product_id: int) -> dict[str, Any]:
        """The product's published-feedback summary as the API writes it (FeedbackSummary)."""
        count, mean, overall = self.feedback.get(product_id, (0, {}, None))
        return {"count": count, "mean": mean, "overall": overall}


async def load_category_facts(session: AsyncSession, category_id: int) -> CategoryFacts:
    """Everything needed to grade the products of one category against any reference."""
    in_category = Product.category_id == category_id
    # Evidence is looked up product by product (an IN over the category's ids): joining
    # instead lets SQLite walk every published feedback in the database.
    category_products = select(Product.id).where(in_category).scalar_subquery()
    products = await product_dicts(await session.connection(), [in_category])
    definitions = list(as_spec_defs(await spec_rows(session, [category_id])).values())
    vendors = await session.execute(
        select(Vendor.slug, Vendor.response_hours, Vendor.service_regions).where(
            Vendor.id.in_(select(Product.vendor_id).where(in_category).scalar_subquery())
        )
    )
    service = {slug: (hours, list(regions)) for slug, hours, regions in vendors}

    trials: dict[int, list[TrialEvidence]] = defaultdict(list)
    trial_rows = await session.execute(
        select(
            Trial.product_id,
            Trial.id,
            Trial.status,
            Trial.check_count,
            Trial.all_checks_passed,
            Trial.has_paired,
            Trial.equivalent,
            Trial.ended_on,
            Trial.reference_product_id,
        ).where(Trial.status == "accepted", Trial.product_id.in_(category_products))
    )
    for row in trial_rows:
        trials[row[0]].append(TrialEvidence(*row[1:]))

    means = [func.avg(getattr(Feedback, d)) for d in DIMENSIONS]
    feedback = {}
    for row in await session.execute(
        select(Feedback.product_id, func.count(), *means)
        .where(Feedback.status == "published", Feedback.product_id.in_(category_products))
        .group_by(Feedback.product_id)
    ):
        mean, overall = summary_figures(row[1], dict(zip(DIMENSIONS, row[2:], strict=True)))
        feedback[row[0]] = (row[1], mean, overall)
    index = CategoryIndex.build(
        definitions,
        [
            (p["id"], p["specs"], p["domestic"], p["made_in"] == DOMESTIC, p["status"] == ACTIVE)
            for p in products
        ],
        trials,
        {pid: overall for pid, (_, _, overall) in feedback.items()},
    )
    return CategoryFacts(
        index=index,
        feedback=feedback,
        service=service,
        # Encoded once here; answers embed them as they are.
        shown={p["id"]: msgspec.Raw(msgspec.json.encode(p)) for p in products},
        vendor_of={p["id"]: p["vendor"] for p in products},
    )
