"""The cumulative-sum linearity test of Passing & Bablok (1983) for a fitted line.

For a line y = a + b·x (Passing–Bablok in a trial; any fit here):

* residuals r_i = y_i − a − b·x_i; with l points above the line (r > 0) and L below
  (r < 0), each point scores +√(L/l) above, −√(l/L) below and 0 on the line, so the
  scores sum to zero;
* the points are ordered along the line (by their projection onto it) and the scores
  summed cumulatively; `cusum_max` is the largest absolute partial sum;
* linearity is rejected at α = 0.05 when cusum_max exceeds 1.36·√(L + 1) (1.36 is the
  Kolmogorov–Smirnov 5 % quantile).

This is the statistic R's mcr package reports as `max.cusum` (MCResult.calcCUSUM),
including its order along the line: the projection increases with x + b·y for b > 0
and with −(x + b·y) for b < 0, ties kept in input order. One difference on purpose:
a residual within rounding of zero (a point the line was fitted through, such as the
intercept's median point) counts as on the line, so the answer does not turn on the
last bit of a subtraction, and scaling the data cannot move such a point across.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from instcat.stats.inputs import Floats

KS_95 = 1.36  # the contract's critical factor (Kolmogorov–Smirnov, α = 0.05)
# Residuals this close to zero, relative to the terms they are computed from, are zero.
ON_LINE = 64 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Linearity:
    cusum_max: float
    critical: float
    linear: bool
    above: int  # points above the line (mcr's nPos)
    below: int  # points below it (mcr's nNeg)
    cusum: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        """The contract's "linearity" object."""
        return {"cusum_max": self.cusum_max, "critical": self.critical, "linear": self.linear}


def cusum_linearity(x: Floats, y: Floats, intercept: float, slope: float) -> Linearity:
    """The CUSUM linearity test of the points (x, y) about the line intercept + slope·x."""
    fitted = intercept + slope * x
    residual = y - fitted
    scale = np.abs(y) + np.abs(slope * x) + abs(intercept)
    sign = np.where(np.abs(residual) <= ON_LINE * scale, 0, np.sign(residual))
    above = int(np.count_nonzero(sign > 0))
    below = int(np.count_nonzero(sign < 0))
    scores = np.zeros(x.size)
    if above and below:
        scores[sign > 0] = math.sqrt(below / above)
        scores[sign < 0] = -math.sqrt(above / below)
    along = x + slope * y if slope >= 0 else -(x + slope * y)
    cusum = np.cumsum(scores[np.argsort(along, kind="stable")])
    cusum_max = float(np.max(np.abs(cusum)))
    critical = KS_95 * math.sqrt(below + 1)
    return Linearity(
        cusum_max=cusum_max,
        critical=critical,
        linear=cusum_max <= critical,
        above=above,
        below=below,
        cusum=tuple(float(v) for v in cusum),
    )
