"""Trial submission under concurrency: vendors POST trials with paired results at once."""

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import bindparam, text
from workloads import engine_for

MARKER = "benchmark submission"


@dataclass
class SubmitResult:
    seconds: float = 0.0
    created: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    throttled: int = 0  # 429 answers (the per-token write limit), retried after Retry-After
    errors: list[str] = field(default_factory=list)
    stored: int = 0  # rows found in the database afterwards
    counted: int = 0  # growth of the vendors' trial count

    @property
    def rate(self) -> float:
        return len(self.created) / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return len(self.created) - self.stored + abs(self.counted - len(self.created))

    @property
    def p99_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def trial_body(r: random.Random, vendor: dict[str, Any], pairs: int) -> dict[str, Any]:
    reference = [round(r.uniform(80, 120), 2) for _ in range(pairs)]
    candidate = [round(x + r.gauss(0.1, 0.4), 2) for x in reference]
    return {
        "product_id": vendor["product_id"],
        "reference_product_id": vendor["reference_id"],
        "site": {"institution": "示例基准测试实验室", "lab": "性能测试", "city": "北京"},
        "started_on": "2026-03-01",
        "ended_on": "2026-05-31",
        "checks": [
            {
                "metric": "repeatability RSD",
                "unit": "%",
                "candidate": 0.4,
                "reference": 0.3,
                "criterion": {"op": "le", "value": 1.0},
            },
            {
                "metric": "assay of reference material",
                "unit": "%",
                "candidate": 99.6,
                "reference": 99.8,
                "criterion": {"op": "abs_diff_le", "value": 1.0},
            },
            {
                "metric": "signal-to-noise",
                "candidate": 900,
                "reference": 1000,
                "criterion": {"op": "ge", "value": 500},
            },
        ],
        "paired": {
            "analyte": "assay, % of label claim",
            "unit": "%",
            "candidate": candidate,
            "reference": reference,
            "margin": 1.0,
        },
        "uptime_pct": 99.5,
        "failures": 0,
        "service_response_hours": 8,
        "summary": MARKER,
        "illustrative": True,
    }


async def _vendor_loop(
    base: str,
    vendor: dict[str, Any],
    deadline: float,
    pairs: int,
    result: SubmitResult,
    seed: int,
) -> None:
    r = random.Random(seed)
    headers = {"Authorization": f"Bearer {vendor['token']}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            body = trial_body(r, vendor, pairs)
            key = str(uuid.uuid4())
            while True:
                started = time.monotonic()
                try:
                    response = await client.post(
                        "/api/v1/trials", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.HTTPError as error:
                    result.errors.append(f"{type(error).__name__}: {error}")
                    break
                if response.status_code == 201:
                    result.created.append(response.json()["id"])
                    result.latencies.append(time.monotonic() - started)
                    break
                if response.status_code == 429:
                    result.throttled += 1
                    wait = float(response.headers.get("Retry-After", "1"))
                    if time.monotonic() + wait >= deadline:
                        break
                    await asyncio.sleep(wait)
                    continue
                result.errors.append(f"{response.status_code}: {response.text[:300]}")
                break


def _count(url: str, vendor_ids: list[int]) -> int:
    engine = engine_for(url)
    query = text("SELECT count(*) FROM trial WHERE summary = :m AND vendor_id IN :v").bindparams(
        bindparam("v", expanding=True)
    )
    with engine.connect() as connection:
        found = connection.execute(query, {"m": MARKER, "v": vendor_ids}).scalar_one()
    engine.dispose()
    return int(found)


def _stored(url: str, ids: list[int]) -> int:
    if not ids:
        return 0
    engine = engine_for(url)
    query = text("SELECT count(*) FROM trial WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with engine.connect() as connection:
        found = connection.execute(query, {"ids": ids}).scalar_one()
    engine.dispose()
    return int(found)


def run_submissions(
    base: str, url: str, vendors: list[dict[str, Any]], duration: float, pairs: int
) -> SubmitResult:
    """Every vendor posts trials back to back for `duration` s; then the rows are checked."""
    result = SubmitResult()
    vendor_ids = [v["vendor_id"] for v in vendors]
    before = _count(url, vendor_ids)

    async def everyone() -> None:
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *(
                _vendor_loop(base, vendor, deadline, pairs, result, seed)
                for seed, vendor in enumerate(vendors)
            )
        )

    started = time.monotonic()
    asyncio.run(everyone())
    result.seconds = time.monotonic() - started
    result.stored = _stored(url, result.created)
    result.counted = _count(url, vendor_ids) - before
    return result
