"""Loading everything grading needs for some categories, in a handful of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.products import product_read, product_select
from instcat.catalogue.schemas import ProductRead
from instcat.catalogue.specs import SpecDef
from instcat.feedback.schemas import FeedbackSummary
from instcat.feedback.service import published_summaries, summarise
from instcat.models import Product, Trial, Vendor
from instcat.substitution.evidence_rows import accepted_trials
from instcat.substitution.grading import TrialEvidence
from instcat.substitution.snapshot import DOMESTIC


@dataclass
class CategoryEvidence:
    """One category's products, spec definitions, trials, feedback and service figures."""

    category_id: int
    code: str
    definitions: list[SpecDef]
    products: list[ProductRead]
    trials: dict[int, list[TrialEvidence]] = field(default_factory=dict)
    feedback: dict[int, FeedbackSummary] = field(default_factory=dict)
    service: dict[str, tuple[float | None, list[str]]] = field(default_factory=dict)

    def feedback_of(self, product_id: int) -> FeedbackSummary:
        return self.feedback.get(product_id) or summarise(0, {})


def is_domestic(product: ProductRead, rule: str) -> bool:
    """Domestic by the vendor's home country (default) or by the place of manufacture."""
    return product.made_in == DOMESTIC if rule == "manufacture" else product.domestic


async def load_evidence(
    session: AsyncSession, category_ids: list[int], trial_cutoff: date | None = None
) -> dict[int, CategoryEvidence]:
    """Everything needed to grade the products of these categories against each other.

    Trials that ended before `trial_cutoff` are left out (they do not count).
    """
    if not category_ids:
        return {}
    rows = (
        await session.execute(
            product_select()
            .where(col(Product.category_id).in_(category_ids))
            .order_by(col(Product.id))
        )
    ).all()
    by_category: dict[int, list[ProductRead]] = defaultdict(list)
    codes: dict[int, str] = {}
    for row in rows:
        product = row[0]
        by_category[product.category_id].append(product_read(row))
        codes[product.category_id] = row[5]
    definitions: dict[int, list[SpecDef]] = defaultdict(list)
    for spec in await spec_rows(session, category_ids):
        definitions[spec.category_id].append(as_spec_defs([spec])[spec.key])

    product_ids = [row[0].id for row in rows]
    trials: dict[int, list[TrialEvidence]] = defaultdict(list)
    query = accepted_trials(col(Trial.ended_on)).where(col(Trial.product_id).in_(product_ids))
    if trial_cutoff is not None:
        query = query.where(col(Trial.ended_on) >= trial_cutoff)
    for row in await session.execute(query):
        trials[row[0]].append(TrialEvidence(*row[1:]))
    feedback = await published_summaries(session, product_ids)
    vendors = {p.vendor for ps in by_category.values() for p in ps}
    service = {
        slug: (hours, list(regions))
        for slug, hours, regions in await session.execute(
            select(col(Vendor.slug), col(Vendor.response_hours), col(Vendor.service_regions)).where(
                col(Vendor.slug).in_(vendors)
            )
        )
    }
    result = {}
    for category_id in category_ids:
        products = by_category.get(category_id, [])
        ids = {p.id for p in products}
        result[category_id] = CategoryEvidence(
            category_id=category_id,
            code=codes.get(category_id, ""),
            definitions=definitions.get(category_id, []),
            products=products,
            trials={pid: t for pid, t in trials.items() if pid in ids},
            feedback={pid: f for pid, f in feedback.items() if pid in ids},
            service=service,
        )
    return result
