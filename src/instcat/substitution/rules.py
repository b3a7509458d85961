"""The grading rule, in one place: which trials count, the basis of a (candidate, reference)
pair, its grade, its caveats and the sentences that explain them (pure, no I/O).

A grade is a claim about one domestic candidate P against one imported reference R:

1. C when the latest accepted paired trial of P against R failed equivalence;
2. A when P meets every spec R has a value for and its best direct trial (split samples
   against R itself, most pairs first) has at least 40 pairs (CLSI EP09-A3), a
   Passing–Bablok slope interval containing 1 and a linearity test that does not reject;
3. B when P has any qualifying evidence (direct, indirect or checks only);
4. C otherwise. A product short of, or unknown on, a critical spec of R is not graded.

The evidence for a pair is summed up in one small integer (`evidence_for`), the decision
made from it by `decide`. The array paths (`ranking`, `matrix`) read tables built by calling
`decide` on every code (`tables`), so a change made here reaches every answer and list.
"""

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

# Grades, best first; "not a substitute" has a code of its own after them.
GRADES = ("A", "B", "C")
GRADE_RANK = {grade: rank for rank, grade in enumerate(GRADES)}
EXCLUDED = len(GRADES)

# The country whose vendors (or factories, under the manufacture rule) are domestic.
DOMESTIC = "CN"
DOMESTIC_RULES = ("vendor", "manufacture")

# The version of this rule that lists record: a diff between lists built under different
# versions names `rule_changed` (lists built before this field existed are version 1).
RULE_VERSION = 2

# CLSI EP09-A3: a method comparison needs at least 40 samples.
MIN_PAIRS = 40

BASES = ("direct", "indirect", "checks_only", "none")
DIRECT, INDIRECT, CHECKS_ONLY, NONE = range(len(BASES))
BASIS_BITS = 2

# What the evidence says beyond its basis: flags above the basis in an evidence code.
FEW_PAIRS = 1 << BASIS_BITS  # no direct trial reaches MIN_PAIRS (its best has fewer)
PROPORTIONAL_BIAS = 2 << BASIS_BITS  # the best direct trial's slope interval excludes 1
CONSTANT_BIAS = 4 << BASIS_BITS  # its intercept interval excludes 0
NONLINEAR = 8 << BASIS_BITS  # its linearity test rejects
UNTESTED = 16 << BASIS_BITS  # it has no regression or linearity test (too few, ties…)
SINGLE_SITE = 32 << BASIS_BITS  # every qualifying trial comes from one institution
NOT_EQUIVALENT = 64 << BASIS_BITS  # the latest paired trial against R failed equivalence
EVIDENCE_CODES = 128 << BASIS_BITS  # every evidence code is below this
# What keeps direct evidence from grade A (constant bias and a single site do not).
A_BLOCKERS = FEW_PAIRS | PROPORTIONAL_BIAS | NONLINEAR | UNTESTED

# Caveat codes in the order answers list them; bit i of a caveat mask is CAVEATS[i].
CAVEATS = (
    "spec_gaps",
    "indirect_evidence",
    "checks_only",
    "few_pairs",
    "proportional_bias",
    "constant_bias",
    "nonlinear",
    "single_site",
    "not_equivalent",
)
_CAVEAT_BIT = {code: 1 << bit for bit, code in enumerate(CAVEATS)}
_FLAG_CAVEATS = (
    (FEW_PAIRS, "few_pairs"),
    (PROPORTIONAL_BIAS, "proportional_bias"),
    (CONSTANT_BIAS, "constant_bias"),
    (NONLINEAR, "nonlinear"),
    (SINGLE_SITE, "single_site"),
    (NOT_EQUIVALENT, "not_equivalent"),
)

Flag = TypeVar("Flag")


def is_domestic(vendor_domestic: Flag, made_in_domestic: Flag, rule: str) -> Flag:
    """Domestic by the vendor's home country (rule `vendor`, the default) or by the place of
    manufacture (`manufacture`). Takes and gives plain bools or boolean arrays alike."""
    return made_in_domestic if rule == "manufacture" else vendor_domestic


@dataclass(frozen=True, slots=True)
class TrialEvidence:
    """What grading needs to know about one accepted trial of a candidate product."""

    id: int
    status: str
    check_count: int
    all_checks_passed: bool
    has_paired: bool
    equivalent: bool | None
    ended_on: date
    reference_product_id: int | None = None
    pairs: int | None = None  # n of the paired results
    proportional_bias: bool | None = None
    constant_bias: bool | None = None
    linear: bool | None = None
    institution: str = ""

    @property
    def qualifies(self) -> bool:
        """Counts as evidence: accepted (so not superseded), has results, every check passed,
        and paired results (if any) show equivalence."""
        return (
            self.status == "accepted"
            and (self.check_count > 0 or self.has_paired)
            and self.all_checks_passed
            and (not self.has_paired or self.equivalent is True)
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(TRIAL_FIELDS, self.as_row(), strict=True))

    def as_row(self) -> list[Any]:
        """The values of `as_dict`, in `TRIAL_FIELDS` order (how lists store a trial)."""
        return [
            self.id,
            self.status,
            self.all_checks_passed,
            self.equivalent,
            self.ended_on.isoformat(),
            self.reference_product_id,
            self.qualifies,
        ]


# A trial as answers and lists show it (`TrialEvidence.as_dict`).
TRIAL_FIELDS = (
    "id",
    "status",
    "all_checks_passed",
    "equivalent",
    "ended_on",
    "reference_product_id",
    "counts",
)


def _latest(trial: TrialEvidence) -> tuple[date, int]:
    return trial.ended_on, trial.id


def _best(trial: TrialEvidence) -> tuple[int, date, int]:
    """Most pairs, then the latest end, then the highest id."""
    return trial.pairs or 0, trial.ended_on, trial.id


def paired_against(trials: Iterable[TrialEvidence]) -> set[int]:
    """The references of a product's accepted paired trials: the only references whose
    evidence code may differ from the product's code for every other reference."""
    return {
        t.reference_product_id
        for t in trials
        if t.status == "accepted" and t.has_paired and t.reference_product_id is not None
    }


def evidence_for(
    trials: Sequence[TrialEvidence], reference_id: int, references: Container[int]
) -> int:
    """The evidence code of a candidate with these trials for one reference: its basis plus
    flags. `references` holds the imported products of the reference's category."""
    qualifying = [t for t in trials if t.qualifies]
    paired = [t for t in qualifying if t.has_paired and t.reference_product_id is not None]
    direct = [t for t in paired if t.reference_product_id == reference_id]
    code = 0
    if direct:
        best = max(direct, key=_best)
        code = DIRECT
        if (best.pairs or 0) < MIN_PAIRS:
            code |= FEW_PAIRS
        if best.proportional_bias is True:
            code |= PROPORTIONAL_BIAS
        if best.constant_bias is True:
            code |= CONSTANT_BIAS
        if best.linear is False:
            code |= NONLINEAR
        if best.proportional_bias is None or best.linear is None:
            code |= UNTESTED
    elif any(t.reference_product_id in references for t in paired):
        code = INDIRECT
    elif qualifying:
        # Checks only, or split samples against no reference (or none in this category).
        code = CHECKS_ONLY
    else:
        code = NONE
    if qualifying and len({t.institution for t in qualifying}) == 1:
        code |= SINGLE_SITE
    against = [
        t
        for t in trials
        if t.status == "accepted" and t.has_paired and t.reference_product_id == reference_id
    ]
    if against and max(against, key=_latest).equivalent is not True:
        code |= NOT_EQUIVALENT
    return code


def basis_of(evidence: int) -> str:
    return BASES[evidence & (1 << BASIS_BITS) - 1]


def decide(evidence: int, gaps: bool, critical_short: bool) -> tuple[int, int]:
    """The grade code (an index into GRADES, or EXCLUDED) and the caveat mask of a pair:
    its evidence code, whether a non-critical spec falls short or is unknown, and whether
    a critical one does (then the candidate is not a substitute)."""
    if critical_short:
        return EXCLUDED, 0
    basis = evidence & (1 << BASIS_BITS) - 1
    caveats = _CAVEAT_BIT["spec_gaps"] if gaps else 0
    if basis == INDIRECT:
        caveats |= _CAVEAT_BIT["indirect_evidence"]
    elif basis == CHECKS_ONLY:
        caveats |= _CAVEAT_BIT["checks_only"]
    for flag, caveat in _FLAG_CAVEATS:
        if evidence & flag:
            caveats |= _CAVEAT_BIT[caveat]
    if evidence & NOT_EQUIVALENT:
        grade = GRADE_RANK["C"]
    elif basis == DIRECT and not gaps and not evidence & A_BLOCKERS:
        grade = GRADE_RANK["A"]
    elif basis != NONE:
        grade = GRADE_RANK["B"]
    else:
        grade = GRADE_RANK["C"]
    return grade, caveats


def caveat_codes(mask: int) -> list[str]:
    """The caveat codes of a mask, in CAVEATS order."""
    return [code for bit, code in enumerate(CAVEATS) if mask >> bit & 1]


def best_grade(grades: Iterable[str]) -> str | None:
    """The best of several grades (A over B over C)."""
    ranked = sorted((g for g in grades if g in GRADE_RANK), key=GRADE_RANK.__getitem__)
    return ranked[0] if ranked else None


def meets_minimum(grade_value: str, minimum: str) -> bool:
    """Whether a grade is at least `minimum` (A ≥ B ≥ C)."""
    return GRADE_RANK[grade_value] <= GRADE_RANK[minimum]


# The sentences of `why`, by language: what decided the grade, then what would raise it.
_SENTENCES: dict[str, dict[str, str]] = {
    "zh": {
        "not_equivalent": "等级 C：该产品最近一次与此型号的分样比对试验未通过等效性检验（TOST），"
        "这一反面证据优先于其他证据。",
        "A": "等级 A：与此型号的直接分样比对试验达到至少 40 对样本（CLSI EP09），证明等效，"
        "Passing–Bablok 斜率置信区间包含 1，线性检验未拒绝线性，且满足此型号的每一项指标。",
        "direct": "等级 B：有与此型号的直接分样比对证据，但尚未满足 A 级的全部条件。",
        "indirect": "等级 B：有与同类其他进口型号的分样比对证据，"
        "但没有与此型号的直接比对（间接证据）。",
        "checks_only": "等级 B：合格试验只有指标核查，没有与此型号的分样比对结果。",
        "none": "等级 C：关键指标在纸面上满足要求，但尚无经审核通过的合格试验。",
        "spec_gaps": "以下非关键指标不达标或未知：{gaps}。",
        "few_pairs": "直接比对试验的样本少于 40 对（CLSI EP09 要求至少 40 对）。",
        "proportional_bias": "最佳直接试验的 Passing–Bablok 斜率置信区间不包含 1（比例偏倚）。",
        "constant_bias": "最佳直接试验的截距置信区间不包含 0（恒定偏倚）。",
        "nonlinear": "最佳直接试验的线性检验（CUSUM）拒绝了线性。",
        "untested": "最佳直接试验无法进行 Passing–Bablok 回归或线性检验。",
        "single_site": "所有合格试验都来自同一机构。",
        "raise_equivalence": "一次与此型号的分样比对试验证明等效，才能提高等级。",
        "raise_pairs": "一次与此型号、至少 40 个样本的分样比对试验，结果等效、无比例偏倚且线性，"
        "可提高到 A 级。",
        "raise_specs": "满足此型号的全部指标才可评为 A 级。",
        "raise_trial": "一次经审核通过的合格试验可提高到 B 级。",
        "raise_site": "另一家机构的试验会使证据更可靠。",
    },
    "en": {
        "not_equivalent": "Grade C: the latest split-sample trial against this model failed the "
        "equivalence test (TOST); evidence against the product for this model outweighs "
        "evidence for it.",
        "A": "Grade A: a split-sample trial against this very model with at least 40 samples "
        "(CLSI EP09) shows equivalence, a Passing–Bablok slope interval containing 1 and "
        "linearity not rejected, and the product meets every spec of this model.",
        "direct": "Grade B: there is split-sample evidence against this model, but not all "
        "that grade A needs.",
        "indirect": "Grade B: there is split-sample evidence against another imported model "
        "of this category, but none against this model (indirect evidence).",
        "checks_only": "Grade B: the qualifying trials have metric checks only, no "
        "split-sample results against this model.",
        "none": "Grade C: the critical specs are met on paper, but no trial has qualified yet.",
        "spec_gaps": "These non-critical specs fall short or are unknown: {gaps}.",
        "few_pairs": "The direct trial has fewer than 40 samples (CLSI EP09 asks for 40).",
        "proportional_bias": "The best direct trial's Passing–Bablok slope interval excludes 1 "
        "(proportional bias).",
        "constant_bias": "The best direct trial's intercept interval excludes 0 (constant bias).",
        "nonlinear": "The best direct trial's linearity (CUSUM) test rejects linearity.",
        "untested": "The best direct trial allows no Passing–Bablok regression or linearity test.",
        "single_site": "All qualifying trials come from one institution.",
        "raise_equivalence": "A split-sample trial against this model that shows equivalence "
        "would raise the grade.",
        "raise_pairs": "A split-sample trial of at least 40 samples against this model, "
        "equivalent, without proportional bias and linear, would raise it to A.",
        "raise_specs": "Meeting every spec of this model is needed for grade A.",
        "raise_trial": "One accepted, qualifying trial would raise it to B.",
        "raise_site": "A trial at another institution would broaden the evidence.",
    },
}
LANGUAGES = tuple(_SENTENCES)


def why(evidence: int, gaps: Sequence[str], lang: str = "zh") -> list[str]:
    """Sentences for a graded pair: the rule that decided its grade, each caveat, and what
    evidence would raise the grade. `gaps` are the non-critical specs it does not meet."""
    words = _SENTENCES[lang]
    grade, _ = decide(evidence, bool(gaps), False)
    basis = evidence & (1 << BASIS_BITS) - 1
    said: list[str] = []
    if evidence & NOT_EQUIVALENT:
        said.append(words["not_equivalent"])
    elif grade == GRADE_RANK["A"]:
        said.append(words["A"])
    else:
        said.append(words[BASES[basis]])
    if gaps:
        separator = "、" if lang == "zh" else ", "
        said.append(words["spec_gaps"].format(gaps=separator.join(gaps)))
    for flag, name in (
        (FEW_PAIRS, "few_pairs"),
        (PROPORTIONAL_BIAS, "proportional_bias"),
        (CONSTANT_BIAS, "constant_bias"),
        (NONLINEAR, "nonlinear"),
        (UNTESTED, "untested"),
        (SINGLE_SITE, "single_site"),
    ):
        if evidence & flag:
            said.append(words[name])
    if evidence & NOT_EQUIVALENT:
        said.append(words["raise_equivalence"])
    elif grade != GRADE_RANK["A"]:
        if basis == NONE:
            said.append(words["raise_trial"])
        if basis != DIRECT or evidence & A_BLOCKERS:
            said.append(words["raise_pairs"])
        if gaps:
            said.append(words["raise_specs"])
    if evidence & SINGLE_SITE:
        said.append(words["raise_site"])
    return said


def explained(evidence: int, gaps: Sequence[str], lang: str = "zh") -> dict[str, Any]:
    """`basis`, `caveats` and `why` of a graded pair, as answers show them."""
    _, caveats = decide(evidence, bool(gaps), False)
    return {
        "basis": basis_of(evidence),
        "caveats": caveat_codes(caveats),
        "why": why(evidence, gaps, lang),
    }
