"""Loading one category's grading index: a few column selects, no ORM objects."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.feedback.schemas import DIMENSIONS, FeedbackSummary
from instcat.feedback.service import summarise
from instcat.models import Feedback, Product, Trial, Vendor
from instcat.substitution.evidence import DOMESTIC
from instcat.substitution.grading import TrialEvidence
from instcat.substitution.ranking import CategoryIndex

ACTIVE = "active"


@dataclass
class CategoryFacts:
    """A category's index plus what candidates show beside their grade."""

    index: CategoryIndex
    feedback: dict[int, FeedbackSummary]
    service: dict[str, tuple[float | None, list[str]]]
    # JSON forms of products already shown, filled as answers need them.
    shown: dict[int, dict[str, Any]] = field(default_factory=dict)

    def feedback_json(self, product_id: int) -> dict[str, Any]:
        """The product's published-feedback summary as the API writes it."""
        summary = self.feedback.get(product_id)
        if summary is None:
            return {"count": 0, "mean": {}, "overall": None}
        return summary.model_dump(mode="json")


async def load_category_facts(session: AsyncSession, category_id: int) -> CategoryFacts:
    """Everything needed to grade the products of one category against any reference."""
    in_category = Product.category_id == category_id
    rows = (
        await session.execute(
            select(
                Product.id,
                Product.specs,
                Vendor.country,
                Product.made_in,
                Product.status,
                Vendor.slug,
                Vendor.response_hours,
                Vendor.service_regions,
            )
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(in_category)
            .order_by(Product.id)
        )
    ).all()
    definitions = list(as_spec_defs(await spec_rows(session, [category_id])).values())

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
        )
        .join(Product, Product.id == Trial.product_id)
        .where(in_category, Trial.status == "accepted")
    )
    for row in trial_rows:
        trials[row[0]].append(TrialEvidence(*row[1:]))

    means = [func.avg(getattr(Feedback, d)) for d in DIMENSIONS]
    feedback = {
        row[0]: summarise(row[1], dict(zip(DIMENSIONS, row[2:], strict=True)))
        for row in await session.execute(
            select(Feedback.product_id, func.count(), *means)
            .join(Product, Product.id == Feedback.product_id)
            .where(in_category, Feedback.status == "published")
            .group_by(Feedback.product_id)
        )
    }
    index = CategoryIndex.build(
        definitions,
        [
            (r.id, dict(r.specs), r.country == DOMESTIC, r.made_in == DOMESTIC, r.status == ACTIVE)
            for r in rows
        ],
        trials,
        {pid: summary.overall for pid, summary in feedback.items()},
    )
    return CategoryFacts(
        index=index,
        feedback=feedback,
        service={r.slug: (r.response_hours, list(r.service_regions)) for r in rows},
    )
