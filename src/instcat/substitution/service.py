"""Alternatives: graded domestic candidates for imported references."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.catalogue.lookup import category_by_code, subtree_ids
from instcat.catalogue.products import product_read, product_select
from instcat.db import Database
from instcat.errors import InvalidInput, NotFound
from instcat.models import Category, Product
from instcat.substitution.alternatives import answer_for, references
from instcat.substitution.evidence import is_domestic, load_evidence
from instcat.substitution.schemas import Alternatives, CategoryAlternatives


async def category_ids_for(session: AsyncSession, codes: list[str] | None) -> list[int]:
    """Category ids for a list of codes (with subcategories); every category when None."""
    if codes is None:
        return list((await session.execute(select(Category.id).order_by(Category.code))).scalars())
    ids: list[int] = []
    for code in codes:
        for cid in await subtree_ids(session, code, field="categories"):
            if cid not in ids:
                ids.append(cid)
    return ids


class AlternativesService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def for_reference(self, reference_id: int, rule: str) -> Alternatives:
        """Domestic candidates for one imported product, best grade first, with evidence."""
        async with self.db.read() as session:
            row = (
                await session.execute(product_select().where(Product.id == reference_id))
            ).first()
            if row is None:
                raise NotFound("product", reference_id)
            reference = product_read(row)
            if is_domestic(reference, rule):
                raise InvalidInput.field(
                    "reference",
                    f"product {reference_id} is domestic under the {rule} rule; "
                    "give an imported product",
                )
            evidence = (await load_evidence(session, [row[0].category_id]))[row[0].category_id]
        answer = answer_for(evidence, reference, rule)
        return Alternatives(
            reference=answer.reference,
            domestic_rule=rule,  # type: ignore[arg-type]
            candidates=answer.candidates,
            excluded=answer.excluded,
        )

    async def for_category(self, code: str, rule: str) -> CategoryAlternatives:
        """The same answer for every imported product of a category."""
        async with self.db.read() as session:
            category = await category_by_code(session, code)
            category_id = category.id or 0
            evidence = (await load_evidence(session, [category_id]))[category_id]
        return CategoryAlternatives(
            category=code,
            domestic_rule=rule,  # type: ignore[arg-type]
            references=[answer_for(evidence, r, rule) for r in references(evidence, rule)],
        )
