"""Crash safety: a loader killed hard mid-write leaves every record whole, and a rerun completes.

Each record is written in one transaction together with its audit row, its spec index rows
and (for trials) its checks; SIGKILL can only lose whole records that were not committed yet.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from instcat.catalogue.specs import index_rows
from instcat.config import normalise_database_url
from instcat.models import AuditEvent, Product, ProductSpecValue, Trial, TrialCheck
from tests.conftest import SEED_DIR

# Slow tier (kills a loader process mid-write): left out of scripts/test --fast.
pytestmark = pytest.mark.slow


async def _count_products(url: str) -> int:
    engine = create_async_engine(normalise_database_url(url))
    try:
        async with engine.connect() as connection:
            return (
                await connection.execute(select(func.count()).select_from(Product))
            ).scalar_one()
    finally:
        await engine.dispose()


def _start_seed(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INSTCAT_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "instcat.cli", "seed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_mid_products(url: str) -> bool:
    """Start the loader and SIGKILL it once products are being written; False if it finished."""
    process = _start_seed(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if asyncio.run(_count_products(url)) >= 3:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    process.wait()
    return False


async def _consistency(url: str) -> dict[str, object]:
    engine = create_async_engine(normalise_database_url(url))
    report: dict[str, object] = {}
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            report["integrity"] = (
                await connection.execute(text("PRAGMA integrity_check"))
            ).scalar()
        products = (await connection.execute(select(Product.id, Product.specs))).all()
        indexed: dict[int, int] = dict(
            (
                await connection.execute(
                    select(ProductSpecValue.product_id, func.count()).group_by(
                        ProductSpecValue.product_id
                    )
                )
            ).all()
        )
        report["products"] = len(products)
        report["products_with_wrong_index"] = [
            pid for pid, specs in products if indexed.get(pid, 0) != len(list(index_rows(specs)))
        ]
        audited = set(
            (
                await connection.execute(
                    select(AuditEvent.entity_id).where(
                        AuditEvent.entity == "product", AuditEvent.action == "create"
                    )
                )
            ).scalars()
        )
        report["products_without_audit"] = [pid for pid, _ in products if pid not in audited]
        report["audits_without_product"] = sorted(audited - {pid for pid, _ in products})
        checks = dict(
            (
                await connection.execute(
                    select(TrialCheck.trial_id, func.count()).group_by(TrialCheck.trial_id)
                )
            ).all()
        )
        trials = (await connection.execute(select(Trial.id, Trial.check_count))).all()
        report["trials_with_missing_checks"] = [
            tid for tid, count in trials if checks.get(tid, 0) != count
        ]
    await engine.dispose()
    return report


def test_a_loader_killed_mid_write_leaves_whole_records_and_a_rerun_completes(settings) -> None:
    url = settings.database_url
    assert any(_kill_mid_products(url) for _ in range(3)), "the loader always finished first"

    after_crash = asyncio.run(_consistency(url))
    assert after_crash.get("integrity", "ok") == "ok"
    assert (
        3
        <= after_crash["products"]
        < len(json.loads((SEED_DIR / "products.json").read_text(encoding="utf-8")))
    )
    for problem in (
        "products_with_wrong_index",
        "products_without_audit",
        "audits_without_product",
        "trials_with_missing_checks",
    ):
        assert after_crash[problem] == [], problem

    rerun = subprocess.run(
        [sys.executable, "-m", "instcat.cli", "seed"],
        env={**os.environ, "INSTCAT_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    complete = asyncio.run(_consistency(url))
    expected = len(json.loads((SEED_DIR / "products.json").read_text(encoding="utf-8")))
    assert complete["products"] == expected
    assert complete["products_with_wrong_index"] == []
    assert complete["trials_with_missing_checks"] == []
