"""Building trial responses, and who may see which trial."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.auth import Actor
from instcat.models import Trial, TrialCheck, TrialReview, User, Vendor
from instcat.trials.schemas import CheckRead, ReviewRead, SiteRead, TrialRead, TrialSummary

PUBLIC_STATUSES = ("accepted", "superseded")
EDITABLE_STATUSES = ("draft", "revision_requested")


def can_see(actor: Actor, trial: Trial) -> bool:
    """Staff see every trial, a vendor its own, everyone the accepted ones."""
    if actor.is_staff or trial.status in PUBLIC_STATUSES:
        return True
    return actor.role == "vendor" and actor.vendor_id == trial.vendor_id


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """can_see as a query condition, for a caller who is not staff."""
    visible: ColumnElement[bool] = col(Trial.status).in_(PUBLIC_STATUSES)
    if actor.role == "vendor" and actor.vendor_id is not None:
        visible = or_(visible, col(Trial.vendor_id) == actor.vendor_id)
    return visible


def _site(trial: Trial) -> SiteRead:
    return SiteRead(institution=trial.site_institution, lab=trial.site_lab, city=trial.site_city)


def _shared(trial: Trial, vendor_slug: str) -> dict[str, Any]:
    """The `TrialBase` fields, which a list and a full read show alike."""
    return {
        "id": trial.id or 0,
        "product_id": trial.product_id,
        "reference_product_id": trial.reference_product_id,
        "vendor": vendor_slug,
        "status": trial.status,
        "version": trial.version,
        "previous_id": trial.previous_id,
        "site": _site(trial),
        "started_on": trial.started_on,
        "ended_on": trial.ended_on,
        "all_checks_passed": trial.all_checks_passed,
        "illustrative": trial.illustrative,
        "updated_at": trial.updated_at,
    }


def summary_read(trial: Trial, vendor_slug: str) -> TrialSummary:
    """A trial as a list shows it."""
    return TrialSummary(
        **_shared(trial, vendor_slug),
        check_count=trial.check_count,
        has_paired=trial.has_paired,
        equivalent=trial.equivalent,
    )


def check_read(check: TrialCheck) -> CheckRead:
    """One metric check with its criterion."""
    return CheckRead(
        metric=check.metric,
        unit=check.unit,
        candidate=check.candidate,
        reference=check.reference,
        criterion={"op": check.criterion_op, "value": check.criterion_value},
        passed=check.passed,
    )


def trial_read(
    trial: Trial,
    vendor_slug: str,
    checks: Iterable[TrialCheck],
    reviews: Iterable[ReviewRead],
) -> TrialRead:
    """The whole trial from its row, its checks in order and its review history."""
    return TrialRead(
        **_shared(trial, vendor_slug),
        checks=[check_read(check) for check in checks],
        paired=trial.paired,
        statistics=trial.statistics,
        uptime_pct=trial.uptime_pct,
        failures=trial.failures,
        service_response_hours=trial.service_response_hours,
        summary=trial.summary,
        reviews=list(reviews),
        created_at=trial.created_at,
        submitted_at=trial.submitted_at,
        decided_at=trial.decided_at,
    )


async def full_read(session: AsyncSession, trial: Trial) -> TrialRead:
    """The whole trial as stored: checks, paired values and statistics, review history."""
    checks = (
        await session.execute(
            select(TrialCheck)
            .where(col(TrialCheck.trial_id) == trial.id)
            .order_by(col(TrialCheck.position))
        )
    ).scalars()
    reviews = await session.execute(
        select(TrialReview, col(User.name))
        .outerjoin(User, col(User.id) == col(TrialReview.reviewer_id))
        .where(col(TrialReview.trial_id) == trial.id)
        .order_by(col(TrialReview.at), col(TrialReview.id))
    )
    vendor_slug = (
        await session.execute(select(col(Vendor.slug)).where(col(Vendor.id) == trial.vendor_id))
    ).scalar_one()
    review_reads = [
        ReviewRead(
            decision=review.decision,
            comment=review.comment,
            reviewer={"id": review.reviewer_id, "name": name or "system"},
            at=review.at,
        )
        for review, name in reviews
    ]
    return trial_read(trial, vendor_slug, checks, review_reads)
