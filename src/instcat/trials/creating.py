"""Creating a trial: statistics and check results are worked out before the write transaction.

On SQLite a write transaction holds the database's only write lock, so whatever can be
computed from the request alone (the statistics of the paired values, whether each check
passed) is done before it opens. Inside, the rows are written with plain inserts and the
response is built from the values just written rather than read back.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.auth import Actor
from instcat.common import audit
from instcat.errors import Forbidden, InvalidInput
from instcat.models import Product, Trial, TrialCheck, Vendor
from instcat.models.base import table_of, utcnow
from instcat.trials.checks import check_passed
from instcat.trials.reads import trial_read
from instcat.trials.rules import check_dates, check_reference
from instcat.trials.schemas import TrialCreate, TrialRead
from instcat.trials.stats import paired_columns

_TRIALS = table_of(Trial)
_CHECKS = table_of(TrialCheck)
_PRODUCTS = table_of(Product)
_VENDORS = table_of(Vendor)
# The product and its reference with their owner, in one statement built once (on the
# tables: the ORM's per-statement work is not needed for a few columns).
_PRODUCTS_WITH_OWNER = (
    select(
        _PRODUCTS.c.id,
        _PRODUCTS.c.vendor_id,
        _PRODUCTS.c.category_id,
        _VENDORS.c.slug,
        _VENDORS.c.country,
    )
    .select_from(_PRODUCTS.join(_VENDORS, _VENDORS.c.id == _PRODUCTS.c.vendor_id))
    .where(_PRODUCTS.c.id.in_(bindparam("ids", expanding=True)))
)
_INSERT_TRIAL = insert(_TRIALS).returning(_TRIALS.c.id)


@dataclass(frozen=True, slots=True)
class PreparedTrial:
    """What a new trial's rows hold apart from its id and owner, computed up front."""

    data: TrialCreate
    paired: dict[str, Any]
    checks: list[dict[str, Any]]


def prepare(data: TrialCreate) -> PreparedTrial:
    """Dates checked, statistics of the paired values, the result of each check (no database)."""
    check_dates(data.started_on, data.ended_on)
    checks = [
        {
            "position": position,
            "metric": check.metric,
            "unit": check.unit,
            "candidate": check.candidate,
            "reference": check.reference,
            "criterion_op": check.criterion.op,
            "criterion_value": check.criterion.value,
            "passed": check_passed(
                check.criterion.op, check.criterion.value, check.candidate, check.reference
            ),
        }
        for position, check in enumerate(data.checks)
    ]
    return PreparedTrial(data=data, paired=paired_columns(data.paired), checks=checks)


async def _owner_slug(session: AsyncSession, actor: Actor, data: TrialCreate) -> tuple[int, str]:
    """The product's vendor id and slug, after checking the product and reference may be used."""
    wanted = {data.product_id}
    if data.reference_product_id is not None:
        wanted.add(data.reference_product_id)
    rows = await session.execute(_PRODUCTS_WITH_OWNER, {"ids": sorted(wanted)})
    found = {row.id: row for row in rows}
    product = found.get(data.product_id)
    if product is None:
        raise InvalidInput.field("product_id", f"unknown product {data.product_id}")
    if not actor.acts_for_vendor(product.vendor_id):
        raise Forbidden("A vendor may report trials of its own products only.")
    reference_id = data.reference_product_id
    if reference_id is not None:
        check_reference(product, found.get(reference_id), reference_id)
    return product.vendor_id, product.slug


async def insert_trial(session: AsyncSession, actor: Actor, prepared: PreparedTrial) -> TrialRead:
    """Write the draft trial, its checks and its audit record; returns the trial as created."""
    data = prepared.data
    vendor_id, slug = await _owner_slug(session, actor, data)
    now = utcnow()
    site = data.site
    row: dict[str, Any] = {
        "product_id": data.product_id,
        "reference_product_id": data.reference_product_id,
        "vendor_id": vendor_id,
        "status": "draft",
        "version": 1,
        "previous_id": None,
        "row_version": 1,
        "site_institution": site.institution,
        "site_lab": site.lab,
        "site_city": site.city,
        "started_on": data.started_on,
        "ended_on": data.ended_on,
        "uptime_pct": data.uptime_pct,
        "failures": data.failures,
        "service_response_hours": data.service_response_hours,
        "summary": data.summary,
        **prepared.paired,
        "all_checks_passed": all(c["passed"] for c in prepared.checks),
        "check_count": len(prepared.checks),
        "illustrative": data.illustrative,
        "created_by": actor.id,
        "created_at": now,
        "updated_at": now,
    }
    trial_id = (await session.execute(_INSERT_TRIAL, row)).scalar_one()
    if prepared.checks:
        await session.execute(
            insert(_CHECKS), [{**check, "trial_id": trial_id} for check in prepared.checks]
        )
    await audit(session, actor, "create", "trial", trial_id, {"product_id": data.product_id})
    # Built from the values just written: nothing needs reading back.
    trial = Trial(**row, id=trial_id)
    checks = [TrialCheck(**check, trial_id=trial_id) for check in prepared.checks]
    return trial_read(trial, slug, checks, reviews=[])
