"""The grading rule as lookup tables, for the array paths (numpy; decides nothing itself).

`rules.decide` is called once for every evidence code, with and without gaps, with and
without a critical shortfall; `ranking` and `matrix` then grade whole arrays of pairs by
indexing these tables, so they cannot disagree with the rule.
"""

from collections.abc import Container, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from instcat.substitution.rules import (
    EVIDENCE_CODES,
    TrialEvidence,
    decide,
    evidence_for,
    paired_against,
)

EvidenceCodes = npt.NDArray[np.uint16]


def _tables() -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint16]]:
    grades = np.zeros((EVIDENCE_CODES, 2, 2), dtype=np.int8)
    caveats = np.zeros((EVIDENCE_CODES, 2, 2), dtype=np.uint16)
    for code in range(EVIDENCE_CODES):
        for gaps in (0, 1):
            for short in (0, 1):
                grades[code, gaps, short], caveats[code, gaps, short] = decide(
                    code, bool(gaps), bool(short)
                )
    return grades, caveats


# [evidence code, has gaps, critical spec short] → grade code / caveat mask.
GRADE_TABLE, CAVEAT_TABLE = _tables()


class CandidateEvidence:
    """The evidence codes of a category's candidates against every reference, held as one
    code per candidate plus the exceptions: the (candidate, reference) pairs with a paired
    trial between them, the only ones whose code may differ (`rules.paired_against`)."""

    __slots__ = ("base", "by_reference")

    def __init__(
        self,
        trials: Sequence[Sequence[TrialEvidence]],
        references: Container[int],
    ) -> None:
        """`trials[i]` are candidate i's accepted trials; `references` the imported products."""
        self.base: EvidenceCodes = np.empty(len(trials), dtype=np.uint16)
        exceptions: dict[int, tuple[list[int], list[int]]] = {}
        without = evidence_for((), -1, ())  # most candidates have no trial
        for i, found in enumerate(trials):
            # -1 is no product: the code for every reference it has no paired trial against.
            self.base[i] = evidence_for(found, -1, references) if found else without
            for reference_id in paired_against(found):
                positions, codes = exceptions.setdefault(reference_id, ([], []))
                positions.append(i)
                codes.append(evidence_for(found, reference_id, references))
        self.by_reference: Mapping[int, tuple[npt.NDArray[np.intp], EvidenceCodes]] = {
            ref: (np.array(p, dtype=np.intp), np.array(c, dtype=np.uint16))
            for ref, (p, c) in exceptions.items()
        }

    def against(self, reference_id: int) -> EvidenceCodes:
        """Every candidate's evidence code for one reference."""
        codes = self.base
        found = self.by_reference.get(reference_id)
        if found is not None:
            codes = codes.copy()
            codes[found[0]] = found[1]
        return codes

    def matrix(self, reference_ids: Sequence[int]) -> EvidenceCodes:
        """Evidence codes of every (candidate, reference) pair, [candidates, references]."""
        codes = np.repeat(self.base[:, None], len(reference_ids), axis=1)
        for j, reference_id in enumerate(reference_ids):
            found = self.by_reference.get(reference_id)
            if found is not None:
                codes[found[0], j] = found[1]
        return codes
