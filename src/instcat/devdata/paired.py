"""Split-sample results and their statistics, for worker processes.

Each trial's values come from a generator seeded with (seed, trial id), so the result does
not depend on which process computes it or in what order.
"""

import math
from typing import Any

import numpy as np

from instcat.devdata.words import ANALYTES
from instcat.trials.schemas import PairedIn
from instcat.trials.stats import paired_statistics

# (trial id, analyte index, number of pairs, whether the methods should agree)
PairedPlan = tuple[int, int, int, bool]
PairedResult = tuple[dict[str, Any], dict[str, Any] | None]


def paired_values(seed: int, plan: PairedPlan) -> PairedIn:
    """Reference and candidate results of one trial, rounded as a lab would report them."""
    trial_id, analyte_index, n, agree = plan
    analyte, unit, level = ANALYTES[analyte_index]
    rng = np.random.default_rng([seed, trial_id])
    margin = float(f"{level * rng.uniform(0.02, 0.05):.2g}")
    if agree:
        bias = rng.normal(0.0, 0.25) * margin
    else:
        bias = rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 1.6) * margin
    noise = level * rng.uniform(0.003, 0.02)
    reference = level * np.exp(rng.normal(0.0, 0.3, n))
    slope = 1.0 + rng.normal(0.0, 0.01)
    candidate = reference + (slope - 1.0) * (reference - level) + bias + rng.normal(0.0, noise, n)
    decimals = max(1, 2 - math.floor(math.log10(level)))
    return PairedIn(
        analyte=analyte,
        unit=unit,
        candidate=np.round(candidate, decimals).tolist(),
        reference=np.round(reference, decimals).tolist(),
        margin=margin,
    )


def paired_block(seed: int, plans: list[PairedPlan]) -> list[PairedResult]:
    """The stored `paired` object and `statistics` (as the trial service computes them)."""
    results: list[PairedResult] = []
    for plan in plans:
        paired = paired_values(seed, plan)
        results.append((paired.model_dump(), paired_statistics(paired)))
    return results
