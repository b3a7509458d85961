"""List generation (array grading, per-category loading, compact storage) equals the
spec-by-spec reference (`grading.grade`, `build.build_entries`) on a generated catalogue."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import msgspec
import pytest
from sqlalchemy import select, update

from instcat.auth import SYSTEM
from instcat.config import Settings
from instcat.db import Database
from instcat.models import Category, Product, SubstitutionList
from instcat.substitution import pipeline, storage
from instcat.substitution.grading import Shortfall, grade, months_before
from instcat.substitution.lists import ListService
from instcat.substitution.matrix import STATUS_NAMES, UNKNOWN, gaps_of, grade_matrix
from instcat.substitution.schemas import ListCriteria
from instcat.substitution.tables import CandidateEvidence
from tests.reference.alternatives import candidates_of, references
from tests.reference.build import build_entries
from tests.reference.evidence import load_evidence

TODAY = date(2026, 11, 29)


# Every test here reads the generated catalogue (tests/conftest.py: made once, copied per test).
pytestmark = pytest.mark.usefixtures("generated")


async def _generated(settings: Settings) -> Database:
    """The test's database, which `generated` filled with the generated catalogue."""
    return Database.from_settings(settings)


async def _every_pair_agrees(db: Database) -> int:
    async with db.read() as session:
        category_ids = list((await session.execute(select(Category.id))).scalars())
        evidence = await load_evidence(session, category_ids)
    pairs = 0
    for category in evidence.values():
        for rule in ("vendor", "manufacture"):
            refs = references(category, rule)
            cands = candidates_of(category, rule)
            trials = [category.trials.get(c.id, []) for c in cands]
            imported = {r.id for r in refs}
            graded = grade_matrix(
                category.definitions,
                [c.specs for c in cands],
                [r.specs for r in refs],
                CandidateEvidence(trials, imported).matrix([r.id for r in refs]),
                keep_statuses=True,
            )
            units = {d.key: d.unit for d in category.definitions}
            for i, cand in enumerate(cands):
                for j, ref in enumerate(refs):
                    want = grade(
                        category.definitions, cand.specs, ref.specs, trials[i], ref.id, imported
                    )
                    code = int(graded.codes[i, j])
                    assert (None if code == 3 else "ABC"[code]) == want.grade
                    assert gaps_of(int(graded.gap_masks[i, j]), graded.gap_keys) == want.gaps
                    compared = [
                        (d, int(s[i, j]))
                        for d, s in zip(category.definitions, graded.statuses, strict=True)
                        if s[i, j] <= UNKNOWN
                    ]
                    assert [(d.key, STATUS_NAMES[s]) for d, s in compared] == [
                        (c.key, c.status) for c in want.specs
                    ]
                    reasons = [
                        Shortfall(d.key, ref.specs[d.key], units.get(d.key)).reason(
                            STATUS_NAMES[s], cand.specs.get(d.key)
                        )
                        for d, s in compared
                        if d.critical and s != 0
                    ]
                    assert reasons == want.reasons
                    pairs += 1
    return pairs


def test_array_grades_equal_the_reference_grading_on_generated_data(settings: Settings) -> None:
    async def run() -> int:
        db = await _generated(settings)
        try:
            return await _every_pair_agrees(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 1000


CRITERIA: list[dict[str, Any]] = [
    {},
    {"min_grade": "B", "domestic_rule": "manufacture"},
    {"min_feedback": 2, "min_rating": 3, "max_service_hours": 48},
    {"max_trial_age_months": 12},
]


async def _lists_agree(db: Database, criteria_list: list[dict[str, Any]] = CRITERIA) -> int:
    service = ListService(db)
    compared = 0
    for number, extra in enumerate(criteria_list):
        criteria = ListCriteria(label=f"fast path {number}", **extra)
        async with db.read() as session:
            ids = list(
                (await session.execute(select(Category.id).order_by(Category.code))).scalars()
            )
            cutoff = (
                months_before(TODAY, criteria.max_trial_age_months)
                if criteria.max_trial_age_months
                else None
            )
            evidence = await load_evidence(session, ids, cutoff)
        want = [e.model_dump(mode="json") for e in build_entries(evidence, criteria)]
        made = await service.generate(SYSTEM, criteria, TODAY, limit=7)
        whole = await service.get(SYSTEM, made.id, None)
        assert made.entry_count == whole.entry_count == len(want)
        assert [e.model_dump(mode="json") for e in whole.entries] == want
        assert [e.model_dump(mode="json") for e in made.entries] == want[:7]
        page = await service.get(SYSTEM, made.id, 5, 3)
        assert [e.model_dump(mode="json") for e in page.entries] == want[3:8]
        compared += len(want)
    return compared


def test_generated_lists_equal_the_reference_build(settings: Settings) -> None:
    async def run() -> int:
        db = await _generated(settings)
        try:
            return await _lists_agree(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 50


@asynccontextmanager
async def _no_snapshot(sessions: int = 1) -> AsyncIterator[None]:
    yield None  # as for in-memory SQLite: the evidence is read on the writer's connection


def test_lists_read_on_the_writers_own_connection_equal_the_reference_build(
    settings: Settings,
) -> None:
    async def run() -> int:
        db = await _generated(settings)
        db.snapshot = _no_snapshot  # type: ignore[method-assign]  # stand-in for this test
        try:
            return await _lists_agree(db, CRITERIA[:2])
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 50


def _lists_after_failing(
    settings: Settings,
    error: type[BaseException],
    match: str,
    processes: int | None = None,
    own_connection: bool = False,
) -> int:
    """Generate a list that fails with `error`; how many lists are stored afterwards."""

    async def run() -> int:
        db = await _generated(settings)
        if processes is not None:
            db.list_build_processes = processes
        if own_connection:
            db.snapshot = _no_snapshot  # type: ignore[method-assign]  # stand-in for this test
        try:
            with pytest.raises(error, match=match):
                await ListService(db).generate(SYSTEM, ListCriteria(label="broken"), TODAY)
            async with db.read() as session:
                return len((await session.execute(select(SubstitutionList.id))).all())
        finally:
            await db.dispose()

    return asyncio.run(run())


ODD_NAME = 'Back\\slash "quoted"\ttab\nline 中文'


@pytest.mark.parametrize("processes", [0, 2], ids=["thread", "processes"])
def test_lists_built_in_a_thread_or_worker_processes_equal_the_reference_build(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    monkeypatch.setattr(storage, "PROCESSES_FROM", 0)  # every list is large enough

    async def run() -> int:
        db = await _generated(settings)
        db.list_build_processes = processes
        try:
            # Stored JSON keeps what COPY and SQL text would otherwise take apart.
            async with db.write() as session:
                await session.execute(update(Product).values(name=ODD_NAME))
            return await _lists_agree(db)
        finally:
            await db.dispose()

    assert asyncio.run(run()) > 50


def test_a_worker_process_that_fails_fails_the_list_and_stores_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Garbled:
        def encode(self, obj: Any) -> bytes:
            return b"\xc1"  # never valid MessagePack: the worker fails to read it

    monkeypatch.setattr(storage, "PROCESSES_FROM", 0)
    monkeypatch.setattr(pipeline, "Encoder", Garbled)
    assert _lists_after_failing(settings, msgspec.DecodeError, "malformed", processes=2) == 0


def test_worker_processes_that_cannot_start_fail_the_list_and_store_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_processes(*args: Any) -> Any:
        raise OSError("no processes here")

    monkeypatch.setattr(storage, "PROCESSES_FROM", 0)
    monkeypatch.setattr(storage, "process_pool", no_processes)
    assert _lists_after_failing(settings, OSError, "no processes here", processes=2) == 0


@pytest.mark.parametrize("own_connection", [False, True], ids=["reader", "writer-only"])
def test_a_category_that_fails_to_build_fails_the_list_and_stores_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, own_connection: bool
) -> None:
    built: list[int] = []
    real_build = storage.build_category

    def failing_build(*args: Any) -> Any:
        built.append(args[0].category_id)
        if len(built) == 3:
            raise RuntimeError("grading failed")
        return real_build(*args)

    monkeypatch.setattr(storage, "build_category", failing_build)
    failed = _lists_after_failing(settings, RuntimeError, "grading failed", 0, own_connection)
    assert failed == 0
    assert len(built) == 3  # nothing was built after the failure


def test_snapshot_sessions_keep_seeing_the_data_as_it_was_when_they_began(
    settings: Settings,
) -> None:
    async def run() -> tuple[list[str], str]:
        db = await _generated(settings)
        name = select(Category.name_en).order_by(Category.code).limit(1)
        try:
            async with db.snapshot(2) as readers:
                assert readers is not None
                first, second = readers
                seen = [(await first.execute(name)).scalar_one()]
                async with db.write() as session:
                    await session.execute(update(Category).values(name_en="Renamed"))
                # The second session reads for the first time after the change.
                seen += [(await s.execute(name)).scalar_one() for s in (second, first)]
            async with db.read() as session:
                return seen, (await session.execute(name)).scalar_one()
        finally:
            await db.dispose()

    seen, now = asyncio.run(run())
    assert seen[0] != "Renamed" and seen == [seen[0]] * 3
    assert now == "Renamed"
