"""Purchaser feedback and its moderation."""

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.common import audit
from instcat.db import Database, rows_changed
from instcat.errors import Conflict, NotFound
from instcat.feedback.schemas import (
    DIMENSIONS,
    FeedbackCreate,
    FeedbackPage,
    FeedbackRead,
    FeedbackSummary,
    ModerationIn,
    RatingsRead,
)
from instcat.idempotency import Outcome, request_hash, run_idempotent
from instcat.models import Feedback, Product
from instcat.models.base import utcnow

MODERATION = {"publish": "published", "reject": "rejected"}


def feedback_read(row: Feedback) -> FeedbackRead:
    return FeedbackRead(
        id=row.id or 0,
        product_id=row.product_id,
        ratings=RatingsRead(**{d: getattr(row, d) for d in DIMENSIONS}),
        months_used=row.months_used,
        text=row.text,
        status=row.status,
        illustrative=row.illustrative,
        created_at=row.created_at,
        moderated_at=row.moderated_at,
        moderation_comment=row.moderation_comment,
    )


def summary_figures(
    count: int, means: dict[str, float | None]
) -> tuple[dict[str, float], float | None]:
    """The rounded mean per dimension and the overall rating (mean of those means)."""
    if count == 0:
        return {}, None
    mean = {d: round(float(means[d] or 0), 4) for d in DIMENSIONS}
    return mean, round(sum(mean.values()) / len(mean), 4)


def summarise(count: int, means: dict[str, float | None]) -> FeedbackSummary:
    """The feedback summary from a count and per-dimension means."""
    mean, overall = summary_figures(count, means)
    return FeedbackSummary(count=count, mean=mean, overall=overall)


async def published_summaries(
    session: AsyncSession, product_ids: list[int] | None = None
) -> dict[int, FeedbackSummary]:
    """Feedback summaries of published feedback, per product."""
    columns = [func.avg(getattr(Feedback, d)).label(d) for d in DIMENSIONS]
    query = (
        select(col(Feedback.product_id), func.count(), *columns)
        .where(col(Feedback.status) == "published")
        .group_by(col(Feedback.product_id))
    )
    if product_ids is not None:
        query = query.where(col(Feedback.product_id).in_(product_ids))
    result = {}
    for row in await session.execute(query):
        result[row[0]] = summarise(row[1], {d: row[2 + i] for i, d in enumerate(DIMENSIONS)})
    return result


class FeedbackService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, actor: Actor, product_id: int, data: FeedbackCreate, idempotency_key: str | None
    ) -> Outcome:
        """Leave feedback on a product (purchaser); it waits for moderation."""
        actor.require("purchaser")

        async def work(session: AsyncSession) -> tuple[int, Any]:
            if await session.get(Product, product_id) is None:
                raise NotFound("product", product_id)
            if actor.id is not None:
                earlier = await session.execute(
                    select(col(Feedback.id)).where(
                        col(Feedback.product_id) == product_id,
                        col(Feedback.author_id) == actor.id,
                        col(Feedback.status) != "rejected",
                    )
                )
                if (found := earlier.scalar()) is not None:
                    raise Conflict(f"You already left feedback {found} on this product.")
            row = Feedback(
                product_id=product_id,
                author_id=actor.id,
                months_used=data.months_used,
                text=data.text,
                illustrative=data.illustrative,
                **data.ratings.model_dump(),
            )
            session.add(row)
            await session.flush()
            await audit(session, actor, "create", "feedback", row.id, {"product_id": product_id})
            return 201, feedback_read(row).model_dump(mode="json")

        route = f"POST /products/{product_id}/feedback"
        digest = request_hash(data, product_id)
        return await run_idempotent(self.db, actor, route, idempotency_key, digest, work)

    async def list_feedback(
        self,
        actor: Actor,
        *,
        product_id: int | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> FeedbackPage:
        """Published feedback for everyone; staff see every state (the moderation queue)."""
        async with self.db.read() as session:
            if product_id is not None and await session.get(Product, product_id) is None:
                raise NotFound("product", product_id)
            query = select(Feedback)
            if product_id is not None:
                query = query.where(col(Feedback.product_id) == product_id)
            if not actor.is_staff:
                query = query.where(col(Feedback.status) == "published")
            if status is not None:
                query = query.where(col(Feedback.status) == status)
            total = (
                await session.execute(
                    select(func.count()).select_from(
                        query.with_only_columns(col(Feedback.id)).subquery()
                    )
                )
            ).scalar_one()
            rows = await session.execute(
                query.order_by(col(Feedback.id).desc()).limit(limit).offset(offset)
            )
            items = [feedback_read(r) for r in rows.scalars()]
            if product_id is not None:
                summary = (await published_summaries(session, [product_id])).get(
                    product_id, summarise(0, {})
                )
            else:
                summary = summarise(0, {})
        return FeedbackPage(items=items, total=total, limit=limit, offset=offset, summary=summary)

    async def moderate(self, actor: Actor, feedback_id: int, data: ModerationIn) -> FeedbackRead:
        """Publish or reject pending feedback (reviewer); one concurrent decision wins."""
        actor.require("reviewer")
        async with self.db.write() as session:
            row = await session.get(Feedback, feedback_id)
            if row is None:
                raise NotFound("feedback", feedback_id)
            if row.status != "pending":
                raise Conflict(f"Only pending feedback is moderated; this one is {row.status}.")
            status = MODERATION[data.decision]
            changed = await rows_changed(
                session,
                update(Feedback)
                .where(col(Feedback.id) == feedback_id, col(Feedback.status) == "pending")
                .values(
                    status=status,
                    moderated_at=utcnow(),
                    moderator_id=actor.id,
                    moderation_comment=data.comment,
                ),
            )
            if changed != 1:
                raise Conflict("This feedback was moderated by someone else meanwhile.")
            await audit(session, actor, data.decision, "feedback", feedback_id, {"status": status})
            await session.flush()
            session.expire_all()
            row = await session.get(Feedback, feedback_id)
            if row is None:
                raise NotFound("feedback", feedback_id)
            return feedback_read(row)
