"""Why an entry left a list or changed grade between two lists: reason codes for a diff.

A diff compares two stored lists, `this` and `against`. What each entry was is stored with
it; what happened since is read from the catalogue as it is now: a product's status,
domestic standing and specs, and the trials the older entry counted. The codes are the
contract's: `discontinued`, `no_longer_domestic`, `spec_changed`, `evidence_added`,
`evidence_superseded`, `evidence_expired`, `not_equivalent`, `grade_up`, `grade_down`,
`criteria_changed`, `rule_changed`.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from instcat.substitution.evidence_rows import Now
from instcat.substitution.grading import months_before
from instcat.substitution.rules import GRADE_RANK, is_domestic
from instcat.substitution.schemas import Entry

# Criteria that differ between any two lists without changing what they select.
_NOT_CRITERIA = {"label", "evaluated_on", "grading_rule"}


def rule_version(criteria: Mapping[str, Any]) -> int:
    """The grading rule a list was built under (lists that predate the field: 1)."""
    version = criteria.get("grading_rule", 1)
    return version if isinstance(version, int) else 1


def _cutoff(criteria: Mapping[str, Any]) -> date | None:
    """The oldest `ended_on` that still counted in a list built under these criteria."""
    months, evaluated = criteria.get("max_trial_age_months"), criteria.get("evaluated_on")
    if not months or not evaluated:
        return None
    return months_before(date.fromisoformat(evaluated), months)


class Reasons:
    """Reason codes for the entries of a diff of `this` list against `against`."""

    def __init__(
        self, this: Mapping[str, Any], against: Mapping[str, Any], rule: str, now: Now
    ) -> None:
        self.rule = rule
        self.now = now
        self.cutoff = _cutoff(this)
        self.general: list[str] = []
        if {k: v for k, v in this.items() if k not in _NOT_CRITERIA} != {
            k: v for k, v in against.items() if k not in _NOT_CRITERIA
        }:
            self.general.append("criteria_changed")
        if rule_version(this) != rule_version(against):
            self.general.append("rule_changed")

    def _product(self, before: Entry) -> list[str]:
        found = self.now.products.get(before.product.id)
        if found is None:
            return ["discontinued"]  # no longer in the catalogue at all
        status, vendor_cn, made_cn, specs = found
        reasons = []
        if status != "active":
            reasons.append("discontinued")
        if not is_domestic(vendor_cn, made_cn, self.rule):
            reasons.append("no_longer_domestic")
        if specs != before.product.specs:
            reasons.append("spec_changed")
        return reasons

    def _old_evidence(self, before: Entry, still: set[int]) -> list[str]:
        """What became of the trials `before` counted that the newer entry no longer has."""
        reasons = []
        for trial in before.evidence.trials:
            if trial.id in still:
                continue
            status, ended = self.now.trials.get(trial.id, ("deleted", date.min))
            if status == "superseded" and "evidence_superseded" not in reasons:
                reasons.append("evidence_superseded")
            elif (
                status == "accepted"
                and self.cutoff is not None
                and ended < self.cutoff
                and "evidence_expired" not in reasons
            ):
                reasons.append("evidence_expired")
        return reasons

    def removed(self, before: Entry) -> list[str]:
        """Why an entry of `against` is not in `this` list."""
        reasons = self._product(before)
        reasons += self._old_evidence(before, set())
        counted = {t.id for t in before.evidence.trials}
        if self.now.not_equivalent.get(before.product.id, set()) - counted:
            reasons.append("not_equivalent")
        if not reasons:
            # Still listed in the catalogue, and its evidence stands: its grade fell below
            # the list's minimum, or it no longer meets a critical spec of any reference.
            reasons.append("grade_down")
        return _ordered(reasons + self.general)

    def changed(self, before: Entry, after: Entry) -> list[str]:
        """Why an entry's grade differs between `against` (before) and `this` (after)."""
        reasons = [
            "grade_up" if GRADE_RANK[after.grade] < GRADE_RANK[before.grade] else "grade_down"
        ]
        if after.product.specs != before.product.specs:
            reasons.append("spec_changed")
        had = {t.id for t in before.evidence.trials}
        has = {t.id for t in after.evidence.trials}
        if has - had:
            reasons.append("evidence_added")
        reasons += self._old_evidence(before, has)
        if any("not_equivalent" in r.caveats for r in after.replaces) and not any(
            "not_equivalent" in r.caveats for r in before.replaces
        ):
            reasons.append("not_equivalent")
        return _ordered(reasons + self.general)


_ORDER = (
    "discontinued",
    "no_longer_domestic",
    "spec_changed",
    "evidence_added",
    "evidence_superseded",
    "evidence_expired",
    "not_equivalent",
    "grade_up",
    "grade_down",
    "criteria_changed",
    "rule_changed",
)


def _ordered(reasons: list[str]) -> list[str]:
    """Each reason once, in the contract's order."""
    return [code for code in _ORDER if code in reasons]
