"""List entries from hand-made evidence: thresholds, entry grades, ordering and domestic rules."""

import os
from datetime import UTC, date, datetime

import pytest

from instcat.catalogue.schemas import ProductRead
from instcat.catalogue.specs import SpecDef
from instcat.config import Settings
from instcat.feedback.schemas import DIMENSIONS
from instcat.feedback.service import summarise
from instcat.substitution.grading import TrialEvidence
from instcat.substitution.schemas import ListCriteria
from tests.reference.build import build_entries, entries_for_category
from tests.reference.evidence import CategoryEvidence

DEFINITIONS = [
    SpecDef("max_pressure_bar", "number", "higher_better", critical=True, unit="bar"),
    SpecDef("solvent_channels", "number", "higher_better"),
]
COUNTRY = {"agilent": "US", "shimadzu": "JP", "hanon": "CN", "elite": "CN", "fuli": "CN"}
SERVICE = {
    "agilent": (48.0, ["北京"]),
    "shimadzu": (48.0, ["上海"]),
    "hanon": (24.0, ["山东", "北京"]),
    "elite": (48.0, ["辽宁"]),
    "fuli": (None, []),
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def product(pid, vendor, pressure, channels=4, *, made_in=None, status="active", code="hplc"):
    return ProductRead(
        id=pid,
        vendor=vendor,
        vendor_name_zh=vendor,
        vendor_name_en=vendor.title(),
        category=code,
        category_name_zh=code,
        category_name_en=code.upper(),
        model=f"M-{pid}",
        name=f"{vendor} M-{pid}",
        specs={"max_pressure_bar": pressure, "solvent_channels": channels},
        made_in=made_in or COUNTRY[vendor],
        domestic=COUNTRY[vendor] == "CN",
        launch_year=None,
        status=status,
        price_band=None,
        illustrative=True,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def passed_trial(pid, reference_id=1):
    """Split samples against `reference_id`: equivalent, 45 pairs, unbiased and linear."""
    return TrialEvidence(
        id=100 + pid,
        status="accepted",
        check_count=1,
        all_checks_passed=True,
        has_paired=True,
        equivalent=True,
        ended_on=date(2026, 3, 31),
        reference_product_id=reference_id,
        pairs=45,
        proportional_bias=False,
        constant_bias=False,
        linear=True,
        institution="Lab",
    )


def feedback(count, rating):
    return summarise(count, {d: rating for d in DIMENSIONS})


def evidence(products, trials=(), feedback_of=None, code="hplc", category_id=1):
    return CategoryEvidence(
        category_id=category_id,
        code=code,
        definitions=DEFINITIONS,
        products=products,
        # Run against the category's first imported product (its reference in these tests).
        trials={
            pid: [passed_trial(pid, next(p.id for p in products if not p.domestic))]
            for pid in trials
        },
        feedback=feedback_of or {},
        service=SERVICE,
    )


REFERENCE = product(1, "agilent", 600)
A_GRADE = product(2, "hanon", 660)  # meets everything, verified
B_GRADE = product(3, "elite", 600, channels=2)  # channels short, verified
C_GRADE = product(4, "fuli", 700)  # meets everything, unverified
EXCLUDED = product(5, "hanon", 400)  # pressure short
DISCONTINUED = product(6, "elite", 900, status="discontinued")
HPLC = evidence(
    [REFERENCE, A_GRADE, B_GRADE, C_GRADE, EXCLUDED, DISCONTINUED],
    trials=[2, 3, 5, 6],
    feedback_of={2: feedback(3, 4.6), 3: feedback(2, 3.8)},
)


def criteria(**overrides):
    return ListCriteria(label="test list", **overrides)


def graded(entries):
    return [(e.product.id, e.grade) for e in entries]


@pytest.mark.parametrize(
    ("minimum", "expected"),
    [("C", [(2, "A"), (3, "B"), (4, "C")]), ("B", [(2, "A"), (3, "B")]), ("A", [(2, "A")])],
)
def test_min_grade_keeps_only_entries_at_least_that_good(minimum, expected):
    assert graded(build_entries({1: HPLC}, criteria(min_grade=minimum))) == expected


def test_excluded_and_discontinued_products_are_never_entries():
    ids = {e.product.id for e in entries_for_category(HPLC, criteria())}

    assert EXCLUDED.id not in ids
    assert DISCONTINUED.id not in ids


@pytest.mark.parametrize(("minimum", "expected"), [(0, [2, 3, 4]), (2, [2, 3]), (3, [2])])
def test_min_feedback_counts_published_feedback(minimum, expected):
    entries = entries_for_category(HPLC, criteria(min_feedback=minimum))

    assert [e.product.id for e in entries] == expected


def test_min_rating_drops_lower_rated_products_and_products_without_ratings():
    entries = entries_for_category(HPLC, criteria(min_rating=4.0))

    assert graded(entries) == [(2, "A")]
    assert entries[0].evidence.feedback.overall == pytest.approx(4.6)


def test_max_service_hours_drops_slower_vendors_and_vendors_without_figures():
    entries = entries_for_category(HPLC, criteria(max_service_hours=24))

    assert graded(entries) == [(2, "A")]
    assert entries[0].evidence.service.response_hours == 24.0
    assert entries[0].evidence.service.regions == ["山东", "北京"]


def test_entry_grade_is_the_best_of_the_references_it_replaces():
    demanding = product(7, "agilent", 600, channels=8)  # hanon's 4 channels fall short
    out_of_reach = product(8, "shimadzu", 1300)
    category = evidence([REFERENCE, demanding, out_of_reach, A_GRADE, C_GRADE], trials=[A_GRADE.id])

    entries = entries_for_category(category, criteria())

    hanon = next(e for e in entries if e.product.id == A_GRADE.id)
    assert hanon.grade == "A"
    assert [(r.reference.id, r.grade) for r in hanon.replaces] == [(1, "A"), (7, "B")]
    assert hanon.replaces[1].gaps == ["solvent_channels"]
    fuli = next(e for e in entries if e.product.id == C_GRADE.id)
    assert [(r.reference.id, r.grade) for r in fuli.replaces] == [(1, "C"), (7, "C")]


def test_replaces_lists_only_references_meeting_the_minimum_grade():
    demanding = product(7, "agilent", 600, channels=8)
    category = evidence([REFERENCE, demanding, A_GRADE], trials=[A_GRADE.id])

    (entry,) = entries_for_category(category, criteria(min_grade="A"))

    assert [(r.reference.id, r.grade) for r in entry.replaces] == [(1, "A")]


def test_entries_carry_their_evidence():
    entry = entries_for_category(HPLC, criteria())[0]

    assert entry.category == "hplc"
    assert entry.evidence.accepted_trials == 1
    assert [(t.id, t.counts) for t in entry.evidence.trials] == [(102, True)]
    assert entry.evidence.feedback.count == 3


def test_entries_are_ordered_by_category_code_then_grade_then_product_id():
    gc_reference = product(20, "agilent", 100, code="gc")
    gc_unverified = product(21, "fuli", 200, code="gc")
    gc_verified = product(22, "hanon", 200, code="gc")
    gc_other_verified = product(23, "elite", 200, code="gc")
    gc = evidence(
        [gc_reference, gc_unverified, gc_verified, gc_other_verified],
        trials=[22, 23],
        code="gc",
        category_id=2,
    )
    hplc_unverified_low_id = product(9, "fuli", 700)
    hplc = evidence([REFERENCE, hplc_unverified_low_id, A_GRADE], trials=[A_GRADE.id])

    entries = build_entries({1: hplc, 2: gc}, criteria())

    assert [(e.category, e.product.id, e.grade) for e in entries] == [
        ("gc", 22, "A"),
        ("gc", 23, "A"),
        ("gc", 21, "C"),
        ("hplc", 2, "A"),
        ("hplc", 9, "C"),
    ]


def test_manufacture_rule_counts_a_foreign_vendors_product_made_in_china_as_domestic():
    made_here = product(10, "shimadzu", 650, made_in="CN")
    category = evidence([REFERENCE, made_here, A_GRADE], trials=[A_GRADE.id])

    by_vendor = build_entries({1: category}, criteria(domestic_rule="vendor"))
    by_place = build_entries({1: category}, criteria(domestic_rule="manufacture"))

    assert graded(by_vendor) == [(2, "A")]
    assert graded(by_place) == [(2, "A"), (10, "C")]


def test_manufacture_rule_treats_a_chinese_vendors_product_made_abroad_as_imported():
    made_abroad = product(11, "elite", 600, made_in="DE")
    category = evidence([REFERENCE, made_abroad, A_GRADE], trials=[A_GRADE.id])

    by_vendor = build_entries({1: category}, criteria(domestic_rule="vendor"))
    by_place = build_entries({1: category}, criteria(domestic_rule="manufacture"))

    assert graded(by_vendor) == [(2, "A"), (11, "C")]
    assert graded(by_place) == [(2, "A")]
    assert [r.reference.id for r in by_place[0].replaces] == [1, 11]


def test_list_build_processes_default_to_two_where_workers_can_fork_from_a_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from instcat import db

    sqlite = "sqlite:////tmp/instcat-settings-only.db"
    assert db._list_build_processes(Settings(database_url=sqlite)) == min(2, os.cpu_count() or 1)
    assert db._list_build_processes(Settings(database_url=sqlite, list_build_processes=0)) == 0
    assert db._list_build_processes(Settings(database_url=sqlite, list_build_processes=3)) == 3
    monkeypatch.setattr(db.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert db._list_build_processes(Settings(database_url=sqlite)) == 0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings(database_url=sqlite, list_build_processes=-1)
