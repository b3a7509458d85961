"""The list grader's number comparisons: many references at once, as each alone."""

import math
import random

import numpy as np
import pytest

from instcat.substitution.matrix import _all_bounds, _bounds


@pytest.mark.parametrize("direction", ["higher_better", "lower_better", "equal"])
def test_list_grader_finds_meeting_ranges_of_many_references_as_of_each_alone(
    direction: str,
) -> None:
    r = random.Random(7)
    base = [r.choice([0.0, 1e-13, 1.0, 5.5, 100.0, 1e12]) for _ in range(30)]
    # Neighbours within and just outside math.isclose's tolerance, and far ones.
    values = sorted(
        {b * (1 + r.choice([0, 5e-10, 2e-9, 1e-3])) + r.choice([0, 1e-13]) for b in base}
    )
    ranked = np.array(values, dtype=np.float64)
    references = [*values, *(v * (1 + 3e-10) for v in values), 0.5, -1.0, 1e15, math.nan, math.inf]
    expected = [list(_bounds(direction, ranked, v)) for v in references]
    assert _all_bounds(direction, ranked, references) == expected
    assert _all_bounds(direction, ranked[:0], [1.0]) == [list(_bounds(direction, ranked[:0], 1.0))]
