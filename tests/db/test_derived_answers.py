"""Derived answers: the alternatives fast path (array grading, paging) equals the spec-by-spec
reference implementation, and cached answers follow writes made by another process."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from instcat.cache import read_revision
from instcat.catalogue.products import product_read, product_select
from instcat.catalogue.search import SearchCriteria
from instcat.config import Settings
from instcat.db import Database
from instcat.devdata import generate
from instcat.models import Category, Product
from instcat.substitution.service import AlternativesService, Window
from tests.conftest import SEED_DIR
from tests.reference.alternatives import answer_for, references
from tests.reference.evidence import load_evidence

EVERYTHING = Window(limit=200, offset=0, excluded_limit=200, excluded_offset=0)


async def _compare_everything(db: Database) -> int:
    """Compare both implementations for every reference of every category; return how many."""
    service = AlternativesService(db)
    compared = 0
    async with db.read() as session:
        category_ids = list((await session.execute(select(Category.id))).scalars())
        evidence = await load_evidence(session, category_ids)
    for category_evidence in evidence.values():
        for rule in ("vendor", "manufacture"):
            for reference in references(category_evidence, rule):
                expected = answer_for(category_evidence, reference, rule)
                fast = json.loads(await service.for_reference(reference.id, rule, EVERYTHING))
                want = expected.model_dump(mode="json")
                assert fast["candidates"] == want["candidates"][:200], reference.id
                assert fast["excluded"] == want["excluded"][:200], reference.id
                assert fast["candidates_total"] == len(want["candidates"])
                assert fast["excluded_total"] == len(want["excluded"])
                assert fast["reference"] == want["reference"]
                compared += 1
    return compared


def test_fast_alternatives_equal_the_reference_grading_on_generated_data(
    generated: str, settings: Settings
) -> None:
    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            return await _compare_everything(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 50


def test_fast_alternatives_equal_the_reference_grading_on_bundled_data(
    seeded: Any, settings: Settings
) -> None:
    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            return await _compare_everything(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 10


def test_pages_partition_the_candidates(seeded: Any, settings: Settings) -> None:
    async def run() -> None:
        db = Database.from_settings(settings)
        service = AlternativesService(db)
        try:
            whole = json.loads(await service.for_reference(15, "vendor", EVERYTHING))
            pages = []
            for offset in range(0, whole["candidates_total"] + 1):
                window = Window(limit=1, offset=offset, excluded_limit=1, excluded_offset=offset)
                page = json.loads(await service.for_reference(15, "vendor", window))
                assert page["candidates_total"] == whole["candidates_total"]
                pages.extend(page["candidates"])
            assert pages == whole["candidates"]
        finally:
            await db.dispose()

    asyncio.run(run())


def test_every_write_retires_cached_answers(seeded: Any, settings: Settings) -> None:
    """A write in one process changes the revision that every other process checks."""

    async def run() -> None:
        async with two_processes(settings) as (reader, writer):
            service = AlternativesService(reader)
            before = json.loads(await service.for_reference(15, "vendor", EVERYTHING))
            async with reader.read() as session:
                revision = await read_revision(session)
            assert reader.answers.get(("alternatives", 15, "vendor", EVERYTHING, "zh"), revision)
            candidate = before["candidates"][0]["product"]["id"]
            async with writer.write() as session:
                product = await session.get(Product, candidate)
                assert product is not None
                product.status = "discontinued"
            after = json.loads(await service.for_reference(15, "vendor", EVERYTHING))
            assert candidate not in [c["product"]["id"] for c in after["candidates"]]
            assert after["candidates_total"] == before["candidates_total"] - 1
            async with reader.read() as session:
                row = (await session.execute(product_select().where(Product.id == candidate))).one()
                assert product_read(row).status == "discontinued"

    asyncio.run(run())


def test_concurrent_revision_reads_share_round_trips_yet_see_every_earlier_commit(
    seeded: Any, settings: Settings
) -> None:
    async def run() -> None:
        async with two_processes(settings) as (reader, writer):
            sent = 0
            if reader.revision._pg_url is not None:  # round trips are shared on PostgreSQL
                read_once = reader.revision._read_postgres

                async def counted() -> int | None:
                    nonlocal sent
                    sent += 1
                    return await read_once()

                reader.revision._read_postgres = counted  # type: ignore[method-assign]  # counts reads
            before = await reader.revision()
            burst = await asyncio.gather(*(reader.revision() for _ in range(50)))
            assert set(burst) == {before}
            if reader.revision._pg_url is not None:
                assert 1 <= sent <= 3 + 1  # the first read, then at most two per burst
            for _ in range(5):
                in_flight = [asyncio.ensure_future(reader.revision()) for _ in range(20)]
                async with writer.write() as session:
                    product = await session.get(Product, 15)
                    assert product is not None
                    product.launch_year = (product.launch_year or 2020) + 1
                committed = await read_revision_now(writer)
                # Asked after the commit: never the token from before it.
                after = await asyncio.gather(*(reader.revision() for _ in range(20)))
                assert set(after) == {committed}
                await asyncio.gather(*in_flight)

    asyncio.run(run())


def test_closing_the_revision_reader_leaves_no_request_waiting(
    seeded: Any, settings: Settings
) -> None:
    async def run() -> None:
        db = Database.from_settings(settings)
        try:
            expected = await read_revision_now(db)
            asking = [asyncio.ensure_future(db.revision()) for _ in range(20)]
            await asyncio.sleep(0)  # the shared read is under way
            await db.revision.close()
            # Every request still gets the token (through the pool if its read was stopped).
            assert set(await asyncio.wait_for(asyncio.gather(*asking), 10)) == {expected}
            assert await db.revision() == expected  # and reads go on after a close
        finally:
            await db.dispose()

    asyncio.run(run())


@asynccontextmanager
async def two_processes(settings: Settings) -> AsyncIterator[tuple[Database, Database]]:
    """Two `Database` objects on one database, as two server processes would hold them."""
    first, second = Database.from_settings(settings), Database.from_settings(settings)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def read_revision_now(db: Database) -> int | None:
    async with db.read() as session:
        return await read_revision(session)


def test_cached_search_and_category_detail_follow_writes_from_another_process(
    seeded: Any, settings: Settings
) -> None:
    from instcat.catalogue.categories import CategoryService
    from instcat.catalogue.products import ProductService
    from instcat.models import Category

    criteria = SearchCriteria(category="hplc", status="active", limit=50)

    async def run() -> None:
        async with two_processes(settings) as (reader, writer):
            products, categories = ProductService(reader), CategoryService(reader)
            before = json.loads(await products.search_json(criteria))
            assert json.loads(await products.search_json(criteria)) == before  # cached
            detail = json.loads(await categories.detail_json("hplc"))
            gone = before["items"][0]["id"]
            async with writer.write() as session:
                product = await session.get(Product, gone)
                assert product is not None
                product.status = "discontinued"
                category = (
                    await session.execute(select(Category).where(Category.code == "hplc"))
                ).scalar_one()
                category.name_en = "Liquid chromatography (HPLC)"
            after = json.loads(await products.search_json(criteria))
            assert after["total"] == before["total"] - 1
            assert gone not in [p["id"] for p in after["items"]]
            renamed = json.loads(await categories.detail_json("hplc"))
            assert renamed["name_en"] == "Liquid chromatography (HPLC)" != detail["name_en"]

    asyncio.run(run())


async def _compare_searches(db: Database, rounds: int) -> int:
    """Category searches answered from memory equal the SQL search, filter for filter."""
    import random

    from instcat.catalogue.memory_search import search_in_memory
    from instcat.catalogue.search import search_page
    from instcat.models import SpecDefinition
    from instcat.substitution.service import category_facts

    r = random.Random(7)
    async with db.read() as session:
        codes = dict((await session.execute(select(Category.id, Category.code))).all())
        parents = dict((await session.execute(select(Category.id, Category.parent_id))).all())
        specs = (await session.execute(select(SpecDefinition))).scalars().all()
        products = (await session.execute(select(Product))).scalars().all()
    by_category: dict[int, list[Any]] = {}
    for product in products:
        by_category.setdefault(product.category_id, []).append(product)
    compared = 0
    revision = await db.revision()
    # A search never loads category indexes itself (alternatives do): until then, SQL answers.
    assert await search_in_memory(db, revision, SearchCriteria(category="hplc", limit=5)) is None
    async with db.read() as session:
        for category_id in codes:
            await category_facts(db, session, category_id, revision)
    for _ in range(rounds):
        category_id = r.choice(sorted(by_category))
        params = []
        for spec in r.sample(
            [s for s in specs if s.category_id == category_id], k=min(2, len(specs))
        ):
            value = r.choice(by_category[category_id]).specs.get(spec.key)
            if value is None:
                continue
            if spec.kind == "number":
                params.append((f"spec.{spec.key}.{r.choice(['gte', 'lte', 'eq'])}", str(value)))
            elif spec.kind == "set" and value:
                members = r.sample(value, k=min(len(value), r.choice([1, 2])))
                params.append((f"spec.{spec.key}.includes", ",".join(members).upper()))
            elif spec.kind == "text":
                params.append((f"spec.{spec.key}.eq", f" {value} "))
        criteria = SearchCriteria(
            # Now and then the parent, whose search includes its subcategories.
            category=codes[
                parents[category_id] if parents[category_id] and r.random() < 0.3 else category_id
            ],
            domestic=r.choice([None, True, False]),
            status=r.choice([None, "active", "discontinued"]),
            spec_params=tuple(params),
            limit=r.choice([1, 5, 50]),
            offset=r.choice([0, 0, 3]),
        )
        async with db.engine.connect() as connection:
            expected = await search_page(connection, criteria)
        fast = await search_in_memory(db, revision, criteria)
        assert fast is not None
        assert json.loads(fast) == json.loads(json.dumps(expected)), criteria
        compared += 1
    return compared


def test_category_search_from_memory_equals_the_sql_search(settings: Settings) -> None:
    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            await generate(db, 0.002, 9, seed_dir=SEED_DIR)
            return await _compare_searches(db, 300)
        finally:
            await db.dispose()

    assert asyncio.run(run()) == 300
