"""Synthetic trials (with checks and reviews) and feedback, as plain rows."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from instcat.devdata import words
from instcat.devdata.base import ANCHOR
from instcat.devdata.catalogue import ProductFacts
from instcat.devdata.paired import PairedPlan, PairedResult
from instcat.trials.checks import check_passed
from instcat.trials.stats import evidence_columns

STATUSES = ["accepted", "submitted", "draft", "rejected", "revision_requested"]
STATUS_WEIGHTS = [0.72, 0.08, 0.07, 0.07, 0.06]
DECISION = {"accepted": "accept", "rejected": "reject", "revision_requested": "request_revision"}
ROW_VERSION = {"draft": 1, "submitted": 2}
PAIRED_SHARE = 1 / 3
FEEDBACK_STATUSES = np.array(["published", "pending", "rejected"])
FEEDBACK_STATUS_P = [0.85, 0.10, 0.05]
DIMENSIONS = ("performance", "stability", "usability", "service", "value")


@dataclass(slots=True)
class TrialPlan:
    id: int
    product: int  # index into ProductFacts
    reference_id: int | None
    status: str
    agree: bool
    paired: PairedPlan | None


class TrialPlanner:
    """Draws trial plans: mostly domestic products, against imported ones of the category."""

    def __init__(self, r: random.Random, products: ProductFacts) -> None:
        self.r = r
        self.products = products
        self.domestic = [i for i, d in enumerate(products.domestic) if d]
        self.imported = [i for i, d in enumerate(products.domestic) if not d]
        self.references: dict[int, list[int]] = {}
        for i in self.imported:
            self.references.setdefault(products.category[i], []).append(products.ids[i])

    def plan(self, trial_id: int) -> TrialPlan:
        r = self.r
        pool = self.domestic if (r.random() < 0.9 and self.domestic) else self.imported
        product = r.choice(pool or self.domestic)
        status = r.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
        agree = r.random() < {"accepted": 0.9, "rejected": 0.3}.get(status, 0.7)
        refs = self.references.get(self.products.category[product], [])
        own_id = self.products.ids[product]
        paired: PairedPlan | None = None
        if r.random() < PAIRED_SHARE:
            paired = (trial_id, r.randrange(len(words.ANALYTES)), r.randint(20, 200), agree)
        reference = None
        if refs and (paired is not None or r.random() < 0.7):
            reference = r.choice(refs)
            if reference == own_id:
                reference = None
        return TrialPlan(trial_id, product, reference, status, agree, paired)


def _sig(value: float) -> float:
    return float(f"{value:.4g}")


def check_rows(
    r: random.Random, trial_id: int, agree: bool, first_id: int
) -> tuple[list[dict[str, Any]], bool]:
    """1–5 metric checks; `passed` is decided by the same rule the trial service uses."""
    metrics = r.sample(words.CHECK_METRICS, r.randint(1, 5))
    failing = -1 if agree else r.randrange(len(metrics))
    rows = []
    for position, (metric, unit, op, typical, limit) in enumerate(metrics):
        ok = position != failing and (agree or r.random() < 0.8)
        if op == "le":
            candidate = limit * (r.uniform(0.2, 0.95) if ok else r.uniform(1.05, 1.6))
            reference = candidate * r.uniform(0.8, 1.2)
        elif op == "ge":
            candidate = limit * (r.uniform(1.05, 3.0) if ok else r.uniform(0.5, 0.95))
            reference = candidate * r.uniform(0.8, 1.2)
        else:
            reference = typical * r.uniform(0.9, 1.1)
            allowed = limit if op == "abs_diff_le" else abs(reference) * limit / 100
            off = allowed * (r.uniform(0.0, 0.9) if ok else r.uniform(1.1, 2.0))
            candidate = reference + r.choice((-1, 1)) * off
        candidate, reference = _sig(candidate), _sig(reference)
        rows.append(
            {
                "id": first_id + position,
                "trial_id": trial_id,
                "position": position,
                "metric": metric,
                "unit": unit,
                "candidate": candidate,
                "reference": reference,
                "criterion_op": op,
                "criterion_value": limit,
                "passed": check_passed(op, limit, candidate, reference),
            }
        )
    return rows, all(row["passed"] for row in rows)


def trial_row(
    r: random.Random,
    plan: TrialPlan,
    products: ProductFacts,
    checks: list[dict[str, Any]],
    all_passed: bool,
    paired: PairedResult | None,
) -> dict[str, Any]:
    """The trial row; timestamps follow the status (submitted, then decided)."""
    ended = ANCHOR.date() - timedelta(days=r.randint(60, 1800))
    started = ended - timedelta(days=r.randint(14, 240))
    created = ANCHOR - timedelta(days=(ANCHOR.date() - ended).days - r.randint(1, 20))
    submitted: datetime | None = None
    decided: datetime | None = None
    if plan.status != "draft":
        submitted = created + timedelta(days=r.randint(0, 10), minutes=r.randint(0, 600))
        if plan.status in DECISION:  # only ever a submitted trial is decided
            decided = submitted + timedelta(days=r.randint(1, 25), minutes=r.randint(0, 600))
    city, _en = r.choice(words.CN_CITIES)
    pairs = f", split-sample comparison of {plan.paired[2]} pairs" if plan.paired else ""
    return {
        "id": plan.id,
        "product_id": products.ids[plan.product],
        "reference_product_id": plan.reference_id,
        "vendor_id": products.vendor[plan.product],
        "status": plan.status,
        "version": 1,
        "previous_id": None,
        "row_version": ROW_VERSION.get(plan.status, 3),
        "site_institution": f"{city}{r.choice(words.INSTITUTION_KINDS)}",
        "site_lab": r.choice(words.LABS),
        "site_city": city,
        "started_on": started,
        "ended_on": ended,
        "uptime_pct": round(r.uniform(95, 100) if plan.agree else r.uniform(85, 99.5), 1),
        "failures": r.choice((0, 0, 0, 1)) if plan.agree else r.randint(0, 4),
        "service_response_hours": float(r.choice((2, 4, 8, 12, 24, 48))),
        "summary": f"Synthetic trial report (illustrative): {len(checks)} checks{pairs}.",
        "paired": paired[0] if paired else None,
        "statistics": paired[1] if paired else None,
        "has_paired": paired is not None,
        **evidence_columns(paired[1] if paired else None),
        "all_checks_passed": all_passed,
        "check_count": len(checks),
        "illustrative": True,
        "created_by": None,
        "created_at": created,
        "updated_at": decided or submitted or created,
        "submitted_at": submitted,
        "decided_at": decided,
    }


def review_row(review_id: int, trial: dict[str, Any]) -> dict[str, Any] | None:
    """The review behind a decided trial (None for drafts and submitted ones)."""
    decision = DECISION.get(trial["status"])
    if decision is None:
        return None
    return {
        "id": review_id,
        "trial_id": trial["id"],
        "decision": decision,
        "comment": words.REVIEW_COMMENTS[decision],
        "reviewer_id": None,
        "at": trial["decided_at"],
    }


class FeedbackMaker:
    """Feedback in vectorised chunks: popular products get more, better ones rate higher."""

    def __init__(self, rng: np.random.Generator, products: ProductFacts) -> None:
        self.rng = rng
        self.ids = np.asarray(products.ids)
        self.quality = np.asarray(products.quality)
        popularity = rng.lognormal(0.0, 1.0, self.ids.size)
        popularity *= np.where(np.asarray(products.domestic), 1.5, 1.0)
        self.p = popularity / popularity.sum()

    def rows(self, first_id: int, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        picked = rng.choice(self.ids.size, size=count, p=self.p)
        mean = 2.4 + 2.2 * self.quality[picked]
        noise = rng.normal(0.0, 0.9, (count, len(DIMENSIONS)))
        ratings = np.clip(np.rint(mean[:, None] + noise), 1, 5).astype(int).tolist()
        months = rng.integers(1, 73, count).tolist()
        statuses = rng.choice(FEEDBACK_STATUSES, size=count, p=FEEDBACK_STATUS_P).tolist()
        texts = rng.integers(-len(words.FEEDBACK_TEXTS), len(words.FEEDBACK_TEXTS), count)
        ages = rng.integers(30 * 86_400, 1800 * 86_400, count).tolist()
        waits = rng.integers(3_600, 20 * 86_400, count).tolist()
        product_ids = self.ids[picked].tolist()
        rows = []
        for i in range(count):
            created = ANCHOR - timedelta(seconds=ages[i])
            status = statuses[i]
            text = words.FEEDBACK_TEXTS[texts[i]] if texts[i] >= 0 else None
            row = dict(zip(DIMENSIONS, ratings[i], strict=True))
            row.update(
                id=first_id + i,
                product_id=product_ids[i],
                author_id=None,
                months_used=months[i],
                text=text,
                status=status,
                illustrative=True,
                created_at=created,
                moderated_at=None if status == "pending" else created + timedelta(seconds=waits[i]),
                moderator_id=None,
                moderation_comment=None,
            )
            rows.append(row)
        return rows
