"""A write that waits for a row another transaction holds must act on what that one committed.

Each test holds a change in an open transaction of its own (what a concurrent request would
write), sends the request, and commits once the request waits: on PostgreSQL for a row lock,
on SQLite for the write lock. The request must then see the committed change: no second
amendment of a trial, no edit without If-Match lost to a 409, no cycle in the category tree.
The live two-worker races are in test_live_races.py.
"""

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from instcat.models import Category, Product, Trial, Vendor
from tests.api.held import holding, sync_engine
from tests.conftest import Api

# What an amendment does not copy from the version it corrects.
_OWN_TO_A_VERSION = {
    "id",
    "status",
    "version",
    "previous_id",
    "row_version",
    "created_at",
    "updated_at",
    "submitted_at",
    "decided_at",
}


def _scalar(url: str, query) -> object:
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(query).scalar_one()
    finally:
        engine.dispose()


def _problem(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# --- amendments --------------------------------------------------------------------------------


@pytest.fixture
def accepted_trial(seeded: Api) -> tuple[Api, str, int]:
    """An accepted trial of fuli's; (api, the vendor's token, trial id)."""
    vendor = seeded.user("vendor", vendor="fuli")
    reviewer = seeded.user("reviewer")
    product = seeded.get("/products", params={"vendor": "fuli", "category": "hplc"}).json()
    body = {
        "product_id": product["items"][0]["id"],
        "site": {"institution": "Lock lab"},
        "started_on": "2026-01-01",
        "ended_on": "2026-02-01",
        "checks": [{"metric": "m", "candidate": 1, "criterion": {"op": "le", "value": 2}}],
    }
    trial_id = seeded.post("/trials", vendor, json=body).json()["id"]
    assert seeded.post(f"/trials/{trial_id}/submit", vendor).status_code == 200
    decision = {"decision": "accept", "comment": "fine"}
    assert seeded.post(f"/trials/{trial_id}/review", reviewer, json=decision).status_code == 200
    return seeded, vendor, trial_id


def _amendments(url: str, trial_id: int) -> object:
    query = select(func.count()).select_from(Trial).where(col(Trial.previous_id) == trial_id)
    return _scalar(url, query)


def test_an_amend_while_another_is_being_made_is_a_409(accepted_trial, settings):
    api, vendor, trial_id = accepted_trial

    def amend_meanwhile(session: Session) -> None:
        # What a concurrent amend does: lock the accepted trial, add the draft version.
        old = session.get(Trial, trial_id, with_for_update=True)
        assert old is not None
        copy = old.model_dump(exclude=_OWN_TO_A_VERSION)
        session.add(Trial(**copy, version=old.version + 1, previous_id=trial_id))

    with holding(settings.database_url, amend_meanwhile) as seen:
        response = api.post(f"/trials/{trial_id}/amend", vendor)

    assert seen["waited"], "the request never waited for the held trial"
    _problem(response, 409)
    assert _amendments(settings.database_url, trial_id) == 1


def test_an_amend_that_waited_while_the_trial_was_superseded_is_a_409(accepted_trial, settings):
    api, vendor, trial_id = accepted_trial

    def supersede_meanwhile(session: Session) -> None:
        session.execute(
            update(Trial)
            .where(col(Trial.id) == trial_id)
            .values(status="superseded", row_version=col(Trial.row_version) + 1)
        )

    with holding(settings.database_url, supersede_meanwhile) as seen:
        response = api.post(f"/trials/{trial_id}/amend", vendor)

    assert seen["waited"], "the request never waited for the held trial"
    _problem(response, 409)
    assert _amendments(settings.database_url, trial_id) == 0


# --- PATCH without If-Match -------------------------------------------------------------------


def _hanon_product(api: Api) -> dict:
    return api.get("/products", params={"vendor": "hanon", "limit": 1}).json()["items"][0]


def _bump_product(product_id: int, **values: object) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        session.execute(
            update(Product)
            .where(col(Product.id) == product_id)
            .values(**values, version=col(Product.version) + 1)
        )

    return work


def test_a_product_patch_without_if_match_waits_and_keeps_the_other_edit(seeded, settings):
    product = _hanon_product(seeded)
    path = f"/products/{product['id']}"
    held = _bump_product(product["id"], price_band="held band")

    with holding(settings.database_url, held) as seen:
        response = seeded.patch(path, seeded.admin_token, json={"launch_year": 2019})

    assert seen["waited"], "the request never waited for the held product"
    assert response.status_code == 200, response.text
    after = seeded.get(path)
    assert after.json()["price_band"] == "held band"
    assert after.json()["launch_year"] == 2019
    assert after.json()["version"] == product["version"] + 2
    assert after.headers["etag"] == f'"{product["version"] + 2}"'


def test_a_product_patch_with_an_if_match_made_stale_meanwhile_is_a_412(seeded, settings):
    product = _hanon_product(seeded)
    path = f"/products/{product['id']}"
    etag = seeded.get(path).headers["etag"]
    held = _bump_product(product["id"], price_band="held band")

    with holding(settings.database_url, held) as seen:
        response = seeded.patch(
            path, seeded.admin_token, json={"launch_year": 2019}, headers={"If-Match": etag}
        )

    assert seen["waited"], "the request never waited for the held product"
    _problem(response, 412)
    after = seeded.get(path).json()
    assert (after["price_band"], after["launch_year"]) == ("held band", product["launch_year"])
    assert after["version"] == product["version"] + 1


def test_a_vendor_patch_without_if_match_waits_and_keeps_the_other_edit(seeded, settings):
    before = seeded.get("/vendors/hanon").json()

    def edit_meanwhile(session: Session) -> None:
        session.execute(
            update(Vendor)
            .where(col(Vendor.slug) == "hanon")
            .values(city="Held city", version=col(Vendor.version) + 1)
        )

    website = "https://held.example.cn"
    with holding(settings.database_url, edit_meanwhile) as seen:
        response = seeded.patch("/vendors/hanon", seeded.admin_token, json={"website": website})

    assert seen["waited"], "the request never waited for the held vendor"
    assert response.status_code == 200, response.text
    after = seeded.get("/vendors/hanon")
    assert (after.json()["city"], after.json()["website"]) == ("Held city", website)
    assert after.json()["version"] == before["version"] + 2
    assert after.headers["etag"] == f'"{before["version"] + 2}"'


# --- the category tree --------------------------------------------------------------------------


def test_a_move_that_a_concurrent_move_turns_into_a_cycle_is_refused(seeded, settings):
    for code in ("lock-a", "lock-b"):
        body = {"code": code, "name_zh": "锁", "name_en": code}
        assert seeded.post("/categories", seeded.admin_token, json=body).status_code == 201

    def move_b_under_a(session: Session) -> None:
        a_id = session.execute(select(col(Category.id)).where(col(Category.code) == "lock-a"))
        session.execute(
            update(Category)
            .where(col(Category.code) == "lock-b")
            .values(parent_id=a_id.scalar_one())
        )

    with holding(settings.database_url, move_b_under_a) as seen:
        response = seeded.patch("/categories/lock-a", seeded.admin_token, json={"parent": "lock-b"})

    assert seen["waited"], "the request never waited for the held category"
    # PostgreSQL: the request read the tree before the move committed and finds the cycle only
    # once it has the tree locked, a 409. SQLite: the request reads the tree after the move
    # committed (it waited for the write lock first), so the cycle is plain to see, a 400.
    _problem(response, 409 if settings.database_url.startswith("postgresql") else 400)
    parents = {
        code: seeded.get(f"/categories/{code}").json()["parent"] for code in ("lock-a", "lock-b")
    }
    assert parents == {"lock-a": None, "lock-b": "lock-a"}
