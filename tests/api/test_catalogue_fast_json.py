"""The hot-path JSON of product search and category detail is what the models would write."""

import asyncio
from typing import Any

from sqlalchemy import select

from instcat.catalogue.categories import CategoryService
from instcat.catalogue.products import ProductService, product_read, product_select
from instcat.catalogue.schemas import CategoryDetail, ProductRead
from instcat.catalogue.search import SearchCriteria, encode_json, product_dicts
from instcat.common import Page
from instcat.config import Settings
from instcat.db import Database
from instcat.models import Category, Product


def _run(settings: Settings, work: Any) -> Any:
    async def go() -> Any:
        db = Database.from_settings(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_product_dicts_equal_the_product_read_json(seeded, settings: Settings) -> None:
    async def work(db: Database) -> tuple[list[Any], list[Any]]:
        async with db.read() as session:
            rows = await session.execute(product_select().order_by(Product.id))
            expected = [product_read(row).model_dump(mode="json") for row in rows]
        async with db.engine.connect() as connection:
            fast = await product_dicts(connection, [Product.id > 0])
        return expected, fast

    expected, fast = _run(settings, work)
    assert len(expected) > 50
    assert fast == expected
    # Same keys in the same order, so the encoded bytes are the same too.
    assert [list(d) for d in fast] == [list(d) for d in expected]


def test_search_pages_validate_and_encode_like_the_page_model(seeded, settings: Settings) -> None:
    searches = [
        {"category": "sem", "spec_params": [("spec.resolution_nm.lte", "3")]},
        {"q": "he ci"},
        {"q": "核磁", "domestic": True},
        {"vendor": "bruker", "status": "active"},
        {"offset": 100000},
    ]

    async def work(db: Database) -> list[tuple[dict[str, Any], bytes]]:
        service = ProductService(db)
        results = []
        for search in searches:
            criteria = SearchCriteria(limit=20, **search)
            results.append((await service.search(criteria), await service.search_json(criteria)))
        return results

    for document, body in _run(settings, work):
        model = Page[ProductRead].model_validate(document)
        assert model.model_dump(mode="json") == document
        assert encode_json(model.model_dump(mode="json")) == body


def test_category_details_validate_and_encode_like_the_model(seeded, settings: Settings) -> None:
    async def work(db: Database) -> list[tuple[dict[str, Any], bytes]]:
        async with db.engine.connect() as connection:
            codes = list((await connection.execute(select(Category.code))).scalars())
        service = CategoryService(db)
        return [(await service.detail(c), await service.detail_json(c)) for c in codes]

    results = _run(settings, work)
    assert any(document["market"] for document, _body in results)
    assert any(document["children"] for document, _body in results)
    for document, body in results:
        dumped = CategoryDetail.model_validate(document).model_dump(mode="json")
        assert dumped == document
        assert list(dumped) == list(document)
        assert encode_json(dumped) == body
