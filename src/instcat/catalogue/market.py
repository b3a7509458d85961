"""Market figures: the sourced series of each category, and wider national figures."""

from sqlalchemy import func, select
from sqlmodel import col

from instcat.auth import Actor
from instcat.catalogue.detail import NEWEST_FIRST
from instcat.catalogue.lookup import category_by_code
from instcat.catalogue.market_schemas import MarketFigureCreate, MarketFigureRead, SourceRead
from instcat.common import Page, audit, unique_or_conflict
from instcat.db import Database
from instcat.errors import Conflict
from instcat.models import MarketFigure


def figure_read(figure: MarketFigure, code: str | None) -> MarketFigureRead:
    """A stored figure as the API shows it, with its category's code."""
    return MarketFigureRead(
        id=figure.id or 0,
        ref=figure.ref,
        category=code,
        scope=figure.scope,
        year=figure.year,
        metric=figure.metric,
        value=figure.value,
        value_low=figure.value_low,
        value_high=figure.value_high,
        unit=figure.unit,
        basis=figure.basis,
        note=figure.note,
        source=SourceRead(
            publication=figure.source_publication,
            title=figure.source_title,
            date=figure.source_date,
            quote=figure.source_quote,
            url=figure.source_url,
        ),
        created_at=figure.created_at,
    )


class MarketFigureService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def market_series(self, code: str, limit: int, offset: int) -> Page[MarketFigureRead]:
        """Every market figure of a category, newest year first."""
        async with self.db.read() as session:
            category = await category_by_code(session, code)
            where = col(MarketFigure.category_id) == category.id
            total = (await session.execute(select(func.count()).where(where))).scalar_one()
            rows = (
                await session.execute(
                    select(MarketFigure)
                    .where(where)
                    .order_by(*NEWEST_FIRST)
                    .limit(limit)
                    .offset(offset)
                )
            ).scalars()
            items = [figure_read(f, code) for f in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def create_figure(self, actor: Actor, data: MarketFigureCreate) -> MarketFigureRead:
        """Add a market figure to the series (figures are never overwritten)."""
        actor.require("admin")
        async with self.db.write() as session:
            category_id = None
            if data.category is not None:
                category_id = (await category_by_code(session, data.category)).id
            if data.ref is not None:
                taken = await session.execute(
                    select(col(MarketFigure.id)).where(col(MarketFigure.ref) == data.ref)
                )
                if taken.first():
                    raise Conflict(f"A market figure with ref {data.ref!r} already exists.")
            figure = MarketFigure(
                ref=data.ref,
                category_id=category_id,
                scope=data.scope,
                year=data.year,
                metric=data.metric,
                value=data.value,
                value_low=data.value_low,
                value_high=data.value_high,
                unit=data.unit,
                basis=data.basis,
                note=data.note,
                source_publication=data.source.publication,
                source_title=data.source.title,
                source_date=data.source.date,
                source_quote=data.source.quote,
                source_url=data.source.url,
                created_by=actor.id,
            )
            session.add(figure)
            clash = f"A market figure with ref {data.ref!r} already exists."
            with unique_or_conflict("market_figure", ["ref"], clash):
                await session.flush()
            await audit(
                session, actor, "create", "market_figure", figure.id, {"metric": data.metric}
            )
            return figure_read(figure, data.category)
