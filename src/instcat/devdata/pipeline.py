"""Trials and feedback: statistics from worker processes, rows written in turns."""

import asyncio
import os
import random
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np

from instcat.devdata.catalogue import ProductFacts
from instcat.devdata.evidence import (
    PAIRED_SHARE,
    FeedbackMaker,
    TrialPlan,
    TrialPlanner,
    check_rows,
    review_row,
    trial_row,
)
from instcat.devdata.paired import PairedResult, paired_block
from instcat.devdata.store import Store

Progress = Callable[[str, int, int], None]
TRIAL_CHUNK = 2_000
PAIRED_BLOCK = 100
FEEDBACK_CHUNK = 20_000


def _chunks(plans: Iterator[TrialPlan], size: int) -> Iterator[list[TrialPlan]]:
    chunk: list[TrialPlan] = []
    for plan in plans:
        chunk.append(plan)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _PairedWork:
    """Statistics of paired results, computed ahead in worker processes (or inline)."""

    def __init__(self, seed: int, pool: ProcessPoolExecutor | None) -> None:
        self.seed = seed
        self.pool = pool

    def submit(self, plans: list[TrialPlan]) -> list[Any]:
        paired = [p.paired for p in plans if p.paired is not None]
        blocks = [paired[i : i + PAIRED_BLOCK] for i in range(0, len(paired), PAIRED_BLOCK)]
        if self.pool is None:
            return blocks
        loop = asyncio.get_running_loop()
        return [loop.run_in_executor(self.pool, paired_block, self.seed, b) for b in blocks]

    @staticmethod
    def ready(work: list[Any]) -> bool:
        return all(not isinstance(w, asyncio.Future) or w.done() for w in work)

    async def results(self, work: list[Any]) -> list[PairedResult]:
        if self.pool is None:
            return [r for block in work for r in paired_block(self.seed, block)]
        return [r for block in await asyncio.gather(*work) for r in block]


class _TrialWriter:
    """Turns planned trials plus their statistics into trial, check and review rows."""

    def __init__(
        self, store: Store, r: random.Random, products: ProductFacts, ids: dict[str, int]
    ) -> None:
        self.store, self.r, self.products = store, r, products
        self.check_id, self.review_id = ids["trial_check"], ids["trial_review"]
        self.counts = {"trials": 0, "trial_checks": 0, "trial_reviews": 0}

    async def write(self, plans: list[TrialPlan], paired: list[PairedResult]) -> None:
        trials, checks, reviews = [], [], []
        results = iter(paired)
        for plan in plans:
            rows, passed = check_rows(self.r, plan.id, plan.agree, self.check_id)
            self.check_id += len(rows)
            checks.extend(rows)
            stats = next(results) if plan.paired else None
            trial = trial_row(self.r, plan, self.products, rows, passed, stats)
            trials.append(trial)
            review = review_row(self.review_id, trial)
            if review is not None:
                reviews.append(review)
                self.review_id += 1
        batches = [("trial", trials), ("trial_check", checks), ("trial_review", reviews)]
        await self.store.write(batches)
        self.counts["trials"] += len(trials)
        self.counts["trial_checks"] += len(checks)
        self.counts["trial_reviews"] += len(reviews)


async def write_evidence(
    store: Store,
    ids: dict[str, int],
    trials: int,
    feedback_total: int,
    products: ProductFacts,
    seed: int,
    streams: dict[str, random.Random],
    workers: int | None,
    report: Progress,
) -> dict[str, int]:
    """Trials (statistics from worker processes) and feedback, written in turns."""
    planner = TrialPlanner(streams["plans"], products)
    plans = _chunks((planner.plan(ids["trial"] + i) for i in range(trials)), TRIAL_CHUNK)
    feedback = FeedbackMaker(np.random.default_rng([seed, 7]), products)
    feedback_done = 0
    workers = workers or os.cpu_count() or 1
    pool = None
    if trials * PAIRED_SHARE >= 4 * PAIRED_BLOCK and workers > 1:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    paired = _PairedWork(seed, pool)
    writer = _TrialWriter(store, streams["trials"], products, ids)

    async def write_feedback() -> None:
        nonlocal feedback_done
        count = min(FEEDBACK_CHUNK, feedback_total - feedback_done)
        rows = feedback.rows(ids["feedback"] + feedback_done, count)
        await store.write([("feedback", rows)])
        feedback_done += count
        report("feedback", feedback_done, feedback_total)

    async def write_trials(chunk: list[TrialPlan], work: list[Any]) -> None:
        await writer.write(chunk, await paired.results(work))
        report("trials", writer.counts["trials"], trials)

    try:
        pending: deque[tuple[list[TrialPlan], list[Any]]] = deque()
        ahead = 2 * workers + 2  # chunks whose statistics are being computed
        for chunk in plans:
            pending.append((chunk, paired.submit(chunk)))
            if len(pending) < ahead:
                continue
            while not paired.ready(pending[0][1]) and feedback_done < feedback_total:
                await write_feedback()  # keep this process busy while the workers compute
            await write_trials(*pending.popleft())
        while pending:
            await write_trials(*pending.popleft())
        while feedback_done < feedback_total:
            await write_feedback()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return {**writer.counts, "feedback": feedback_done}
