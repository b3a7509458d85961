"""The evidence SQL, in one place: trials and feedback as the grading paths read them, and
what list diffs read of the catalogue now. Plain rows from Core selects.

Accepted trials come as `TrialEvidence` fields, published feedback as a count and the mean
of each dimension aggregated by the database; per category or for the whole catalogue.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Text, cast, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from instcat.feedback.schemas import DIMENSIONS
from instcat.feedback.service import summarise, summary_figures
from instcat.models import Feedback, Product, Trial, Vendor
from instcat.substitution.rules import DOMESTIC, TrialEvidence

NO_FEEDBACK = summarise(0, {}).model_dump()


@dataclass(frozen=True, slots=True)
class Now:
    """The catalogue as it is now, for the products and trials a diff names."""

    products: dict[int, tuple[str, bool, bool, dict[str, Any]]]  # status, vendor CN, made CN, specs
    trials: dict[int, tuple[str, date]]  # status, ended_on
    # Per product: its accepted paired trials that did not show equivalence.
    not_equivalent: dict[int, set[int]]


async def read_now(session: AsyncSession, product_ids: list[int], trial_ids: list[int]) -> Now:
    """The current state of these products (for a list diff), of their failed paired trials,
    and of these trials."""
    products: dict[int, tuple[str, bool, bool, dict[str, Any]]] = {}
    trials: dict[int, tuple[str, date]] = {}
    failed: dict[int, set[int]] = {}
    for start in range(0, len(product_ids), 1000):
        chunk = product_ids[start : start + 1000]
        rows = await session.execute(
            select(
                col(Product.id),
                col(Product.status),
                col(Vendor.country),
                col(Product.made_in),
                col(Product.specs),
            )
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Product.id).in_(chunk))
        )
        for pid, status, country, made_in, specs in rows:
            products[pid] = (status, country == DOMESTIC, made_in == DOMESTIC, dict(specs))
        rows = await session.execute(
            select(col(Trial.product_id), col(Trial.id)).where(
                col(Trial.product_id).in_(chunk),
                col(Trial.status) == "accepted",
                col(Trial.has_paired),
                col(Trial.equivalent).is_not(True),
            )
        )
        for pid, trial_id in rows:
            failed.setdefault(pid, set()).add(trial_id)
    for start in range(0, len(trial_ids), 1000):
        chunk = trial_ids[start : start + 1000]
        rows = await session.execute(
            select(col(Trial.id), col(Trial.status), col(Trial.ended_on)).where(
                col(Trial.id).in_(chunk)
            )
        )
        trials.update({tid: (status, ended) for tid, status, ended in rows})
    return Now(products, trials, failed)


async def core_rows(session: AsyncSession, query: Any) -> Any:
    """Run a plain column select on the session's connection."""
    # Plain column selects run on the connection: the ORM's row handling is pure overhead.
    return await (await session.connection()).execute(query)


def _products_where(condition: Any) -> Any:
    # Evidence is then sought product by product through its covering index; joined to
    # product instead, SQLite walks every accepted trial or published feedback in the
    # database (1M feedback at scale 1) to keep one category's.
    return select(col(Product.id)).where(condition).scalar_subquery()


async def load_trials(
    session: AsyncSession, trial_cutoff: date | None, in_category: Any = None
) -> dict[int, list[TrialEvidence]]:
    """Accepted trials per product (of one category, or all), from `ix_trial_evidence`."""
    rows = await load_trial_rows(session, trial_cutoff, in_category)
    return {pid: [trial_evidence(row) for row in trials] for pid, trials in rows.items()}


def trial_evidence(row: Sequence[Any]) -> TrialEvidence:
    """The `TrialEvidence` of a `load_trial_rows` row."""
    trial_id, status, checks, passed, paired, equivalent, ended_on, *rest = row
    ended = date.fromisoformat(ended_on)
    return TrialEvidence(trial_id, status, checks, passed, paired, equivalent, ended, *rest)


def accepted_trials(ended_on: ColumnElement[Any] | Mapped[Any]) -> Select[*tuple[Any, ...]]:
    """Accepted trials: the product id, then the `TrialEvidence` fields with `ended_on` as
    the end date."""
    return select(
        col(Trial.product_id),
        col(Trial.id),
        col(Trial.status),
        col(Trial.check_count),
        col(Trial.all_checks_passed),
        col(Trial.has_paired),
        col(Trial.equivalent),
        ended_on,
        col(Trial.reference_product_id),
        col(Trial.pair_count),
        col(Trial.proportional_bias),
        col(Trial.constant_bias),
        col(Trial.linear),
        col(Trial.site_institution),
    ).where(col(Trial.status) == "accepted")


async def load_trial_rows(
    session: AsyncSession, trial_cutoff: date | None, in_category: Any = None
) -> dict[int, list[tuple[Any, ...]]]:
    """`load_trials` as plain rows of `TrialEvidence` fields, the end date as ISO text."""
    connection = await session.connection()
    ended_on: ColumnElement[str]
    if connection.dialect.name == "postgresql":
        ended_on = func.to_char(col(Trial.ended_on), "YYYY-MM-DD")
    else:
        ended_on = type_coerce(col(Trial.ended_on), Text)  # stored so
    query = accepted_trials(ended_on)
    if in_category is not None:
        query = query.where(col(Trial.product_id).in_(_products_where(in_category)))
    if trial_cutoff is not None:
        query = query.where(col(Trial.ended_on) >= trial_cutoff)
    trials: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in await connection.execute(query):
        trials[row[0]].append(tuple(row[1:]))
    return dict(trials)


async def load_feedback(session: AsyncSession, in_category: Any = None) -> dict[int, Any]:
    """Count and mean ratings of published feedback per product, aggregated by the database."""
    # As floats: PostgreSQL's numeric means would come as Decimals, slow to make and to round.
    means = [cast(func.avg(getattr(Feedback, d)), Float) for d in DIMENSIONS]
    query = (
        select(col(Feedback.product_id), func.count(), *means)
        .where(col(Feedback.status) == "published")
        .group_by(col(Feedback.product_id))
    )
    if in_category is not None:
        query = query.where(col(Feedback.product_id).in_(_products_where(in_category)))
    return {row[0]: tuple(row[1:]) for row in await core_rows(session, query)}


def feedback_summary(row: Any) -> dict[str, Any]:
    """The FeedbackSummary JSON of a `load_feedback` row (None: no published feedback):
    `feedback.service.summarise`'s figures, without building the model."""
    if row is None or row[0] == 0:
        return NO_FEEDBACK
    mean, overall = summary_figures(row[0], dict(zip(DIMENSIONS, row[1:], strict=True)))
    return {"count": row[0], "mean": mean, "overall": overall}


@dataclass
class Shared:
    """Trials and feedback of the whole catalogue, read in one pass each (for large lists)."""

    trials: dict[int, list[tuple[Any, ...]]]  # `load_trial_rows`
    feedback: dict[int, Any]


async def load_shared(sessions: Sequence[AsyncSession], trial_cutoff: date | None) -> Shared:
    """Trials and feedback of the whole catalogue; with two sessions (one snapshot), both at
    once: the feedback means are mostly the database's work, the trials mostly ours."""
    first = sessions[0]
    if len(sessions) < 2:
        return Shared(await load_trial_rows(first, trial_cutoff), await load_feedback(first))
    trials, feedback = await asyncio.gather(
        load_trial_rows(first, trial_cutoff), load_feedback(sessions[1])
    )
    return Shared(trials, feedback)
