"""Alternatives: graded domestic candidates for imported references."""

import asyncio
import gc
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.lookup import category_by_code, subtree_ids
from instcat.db import Database
from instcat.errors import InvalidInput, NotFound
from instcat.models import Category, Product
from instcat.substitution.index import CategoryFacts, load_category_facts


async def category_ids_for(session: AsyncSession, codes: list[str] | None) -> list[int]:
    """Category ids for a list of codes (with subcategories); every category when None."""
    if codes is None:
        query = select(col(Category.id)).order_by(col(Category.code))
        # Ids read back from the table are never None.
        return cast(list[int], list((await session.execute(query)).scalars()))
    ids: list[int] = []
    for code in codes:
        for cid in await subtree_ids(session, code, field="categories"):
            if cid not in ids:
                ids.append(cid)
    return ids


@dataclass(frozen=True, slots=True)
class Window:
    """Which candidates and which excluded products an answer shows."""

    limit: int = 50
    offset: int = 0
    excluded_limit: int = 50
    excluded_offset: int = 0


def answers_for(
    facts: CategoryFacts, reference_ids: list[int], rule: str, window: Window, lang: str = "zh"
) -> list[dict[str, Any]]:
    """Each reference's page of candidates and excluded products, as JSON-ready values in
    the shape of `ReferenceAlternatives` (tests hold the two identical)."""
    answers = []
    for reference_id in reference_ids:
        assessment = facts.index.assess(reference_id, rule)
        ranked, excluded = assessment.rank()
        shown = ranked[window.offset :][: window.limit]
        dropped = excluded[window.excluded_offset :][: window.excluded_limit]
        answers.append(
            {
                "reference": facts.shown[reference_id],
                "candidates": facts.candidates_json(assessment, shown, reference_id, lang),
                "excluded": facts.excluded_json(assessment, dropped),
                "candidates_total": len(ranked),
                "excluded_total": len(excluded),
            }
        )
    return answers


@dataclass
class _Collections:
    """Products loaded since the last pass of the cyclic collector over every object, and
    how many the loaded indexes held then."""

    loaded_since: int = 0
    held_then: int = 0


_collections = _Collections()


def keep_out_of_collections(loaded: int, held: int) -> None:
    """Keep the objects alive now (an index of `loaded` products is hundreds of thousands
    of them) out of the cyclic collector's full passes, which otherwise stall requests for
    hundreds of ms (p99 of category searches 487 → 26 ms).

    Garbage among the objects not frozen yet is collected first. A dropped index is freed by
    reference counting, frozen or not, but cycles that became garbage after they were frozen
    (requests in flight during a load) are only found by a pass over every object. That
    pass costs about 0.3 s at scale 1, so it runs only once as many products have been
    loaded since the last one as the indexes then held (`held` counts them now): its cost
    grows with the heap, and so does the gap between two passes.
    """
    _collections.loaded_since += loaded
    if _collections.loaded_since > _collections.held_then:
        gc.unfreeze()
        gc.collect()
        _collections.loaded_since, _collections.held_then = 0, held
    else:
        gc.collect()
    gc.freeze()


# Category loads in flight in this process, so that concurrent requests share one.
_LOADING: dict[tuple[int, Any, int | None], "asyncio.Future[CategoryFacts]"] = {}


async def category_facts(
    db: Database, session: AsyncSession, category_id: int, revision: int | None
) -> CategoryFacts:
    """A category's loaded index for this revision (loaded once per process and revision)."""
    key = ("category-facts", category_id)
    facts = db.indexes.get(key, revision)
    if facts is not None:
        return cast(CategoryFacts, facts)
    # Concurrent requests for a category that is not loaded yet wait for one load.
    pending = _LOADING.get((id(db), key, revision))
    if pending is not None:
        return await asyncio.shield(pending)
    loading: asyncio.Future[CategoryFacts] = asyncio.get_running_loop().create_future()
    _LOADING[(id(db), key, revision)] = loading
    try:
        facts = await load_category_facts(session, category_id)
        db.indexes.put(key, revision, facts, len(facts.index.ids))
        keep_out_of_collections(len(facts.index.ids), db.indexes.size)
        loading.set_result(facts)
    except BaseException as error:
        loading.set_exception(error)
        loading.exception()  # retrieved here, so an unawaited failure is not logged
        raise
    finally:
        del _LOADING[(id(db), key, revision)]
    return facts


class AlternativesService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _loaded_facts(self, product_id: int, revision: int | None) -> CategoryFacts | None:
        """The product's category, when it is loaded for this revision already."""
        known = self.db.hints.get(("category-of", product_id))
        if known is None:
            return None
        facts: CategoryFacts | None = self.db.indexes.get(("category-facts", known), revision)
        return facts if facts is not None and product_id in facts.index.position else None

    async def _facts_of_product(self, product_id: int, revision: int | None) -> CategoryFacts:
        """The loaded category of a product (the category is remembered between requests,
        and checked against the facts of the current revision)."""
        facts = self._loaded_facts(product_id, revision)
        if facts is not None:
            return facts  # no session needed
        async with self.db.read() as session:
            known = self.db.hints.get(("category-of", product_id))
            if known is not None:
                facts = await category_facts(self.db, session, known, revision)
                if product_id in facts.index.position:
                    return facts
            category_id = (
                await session.execute(
                    select(col(Product.category_id)).where(col(Product.id) == product_id)
                )
            ).scalar()
            if category_id is None:
                raise NotFound("product", product_id)
            facts = await category_facts(self.db, session, category_id, revision)
        for pid in facts.index.position:
            self.db.hints[("category-of", pid)] = category_id
        return facts

    async def for_reference(
        self, reference_id: int, rule: str, window: Window, lang: str = "zh"
    ) -> bytes:
        """Domestic candidates for one imported product, best grade first, with evidence."""

        async def compute(revision: int | None) -> bytes:
            facts = await self._facts_of_product(reference_id, revision)
            index = facts.index
            if index.domestic(rule)[index.position[reference_id]]:
                raise InvalidInput.field(
                    "reference",
                    f"product {reference_id} is domestic under the {rule} rule; "
                    "give an imported product",
                )
            (answer,) = answers_for(facts, [reference_id], rule, window, lang)
            return msgspec.json.encode({**answer, "domestic_rule": rule})

        key = ("alternatives", reference_id, rule, window, lang)
        return await self.db.answer(key, compute)

    async def for_category(self, code: str, rule: str, window: Window, lang: str = "zh") -> bytes:
        """The same answer for every imported product of a category."""

        async def compute(revision: int | None) -> bytes:
            async with self.db.read() as session:
                category = await category_by_code(session, code)
                facts = await category_facts(self.db, session, category.id or 0, revision)
            index = facts.index
            reference_ids = [int(pid) for pid in index.ids[~index.domestic(rule)]]
            answers = answers_for(facts, reference_ids, rule, window, lang)
            return msgspec.json.encode(
                {"category": code, "domestic_rule": rule, "references": answers}
            )

        key = ("category-alternatives", code, rule, window, lang)
        return await self.db.answer(key, compute)
