"""Passing–Bablok regression of candidate (y) on reference (x).

Passing & Bablok 1983, J Clin Chem Clin Biochem 21:709–720. The pairwise slopes are
never listed: `PairwiseSlopes` (slopes.py) picks the few order statistics needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats  # type: ignore[import-untyped, unused-ignore]  # stubs optional

from instcat.stats.inputs import Floats, StatisticsError, as_pairs, checked_alpha
from instcat.stats.slopes import PairwiseSlopes

# Up to this many pairs the sign of Kendall's τ is counted over an n × n table directly,
# well below scipy's per-call overhead; beyond it scipy's O(n log n) version is used.
KENDALL_DIRECT_MAX = 1_000


@dataclass(frozen=True)
class PassingBablok:
    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    intercept_ci: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        """Estimates and intervals as the contract's "passing_bablok" object."""
        return {
            "slope": self.slope,
            "slope_ci": list(self.slope_ci),
            "intercept": self.intercept,
            "intercept_ci": list(self.intercept_ci),
        }


def _kendall_negative(x: Floats, y: Floats) -> bool:
    """Whether Kendall's τ_b of (x, y) is below 0: its sign is that of concordant − discordant."""
    if x.size > KENDALL_DIRECT_MAX:
        return bool(stats.kendalltau(x, y).statistic < 0)
    concordance = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    return bool(concordance.sum() < 0)


def _positions(doubled: int, shift: int) -> list[int]:
    """1-based positions of the order statistic at rank doubled/2 + 1/2, shifted.

    An odd `doubled` names one slope, S_((doubled+1)/2 + shift); an even one the
    mean of S_(doubled/2 + shift) and the next, as for a median.
    """
    if doubled % 2:
        return [(doubled + 1) // 2 + shift]
    return [doubled // 2 + shift, doubled // 2 + 1 + shift]


def _slope_estimates(x: Floats, y: Floats, alpha: float) -> tuple[float, float, float]:
    """(lower limit, slope, upper limit) of the paper's estimator; see `passing_bablok`."""
    n = int(x.size)
    slopes = PairwiseSlopes(x, y)
    if slopes.finite == 0:
        raise StatisticsError("Passing–Bablok is undefined: all reference values are equal")
    shift, dropped = slopes.below_minus_one, slopes.minus_one
    total = slopes.finite + slopes.vertical - dropped
    if total < 2:
        raise StatisticsError("Passing–Bablok is undefined: fewer than 2 usable slopes")
    c = float(special.ndtri(1.0 - alpha / 2.0)) * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    estimate = _positions(total, shift)
    lower = _positions(round(total - c), shift)
    upper = _positions(round(total + c), shift)
    if min(lower) < 1 or max(upper) > total:
        raise StatisticsError(
            f"Passing–Bablok is undefined: too few pairs for a {100 * (1 - alpha):g} % "
            "confidence interval of the slope"
        )
    wanted = lower + estimate + upper
    # Positions count the slopes without those of −1, which sit right after the K below.
    values = slopes.order_statistics([p if p <= shift else p + dropped for p in wanted])
    found = dict(zip(wanted, values, strict=True))
    b_lo, b, b_hi = (float(np.mean([found[p] for p in ps])) for ps in (lower, estimate, upper))
    if not all(math.isfinite(v) for v in (b_lo, b, b_hi)):
        raise StatisticsError(
            "Passing–Bablok is undefined: the slope or a confidence limit is vertical "
            "(too many pairs share a reference value)"
        )
    return b_lo, b, b_hi


def passing_bablok(
    x: Sequence[float] | Floats, y: Sequence[float] | Floats, alpha: float = 0.05
) -> PassingBablok:
    """Passing–Bablok regression of y (candidate) on x (reference).

    Slopes S_ij = (y_j − y_i)/(x_j − x_i) over all pairs of points: pairs of
    identical points are ignored; pairs with equal x and different y count as
    +∞ (the points are taken in x order, ties by y); slopes of exactly −1 are
    discarded (decided in exact arithmetic).  With N slopes left, K of them
    below −1, sorted S_1 ≤ … ≤ S_N:

    * slope b = S_((N+1)/2 + K) for odd N, else the mean of S_(N/2 + K) and
      S_(N/2 + 1 + K) (the paper's shifted median);
    * confidence limits, with C = z(1 − α/2) · √(n(n − 1)(2n + 5)/18): the
      order statistics at rank (round(N − C) + 1)/2 + K and (round(N + C) + 1)/2
      + K, a half-integer rank meaning the mean of two neighbours.  This is how
      the Roche `mcr` package (mcreg, method.reg = "PaBa", method.ci =
      "analytical") rounds, and it reproduces the reference results in mcr's
      tests (computed with Roche's Calanas and with Analyse-it) to 1e-13; the
      paper's M1 = round((N − C)/2), M2 = N − M1 + 1 can be one order statistic
      wider on each side;
    * intercept a = median(y − b·x), with limits median(y − b_upper·x) and
      median(y − b_lower·x).

    The even-N median averages slopes, as in the paper (mcr's
    slope.measure = "tangent"; mcr's default averages angles).  As in mcr, data
    with a negative Kendall's τ_b get the mirrored estimator, i.e. the above
    applied to (x, −y) and negated back (slopes of +1 are then the ones
    discarded, K counts slopes above +1 and vertical pairs count as −∞).
    Raises `StatisticsError` when the regression is undefined: all
    x equal, fewer than 2 usable slopes, too few pairs for the confidence limits
    (ranks outside 1..N), or an estimate or limit that is a vertical (+∞) slope.
    """
    y_arr, x_arr = as_pairs(y, x)
    alpha = checked_alpha(alpha)
    if np.all(x_arr == x_arr[0]):
        raise StatisticsError("Passing–Bablok is undefined: all reference values are equal")
    # mcr's rule: Kendall's tau-b >= 0 (or undefined, constant y) is a positive correlation.
    constant_y = bool(np.all(y_arr == y_arr[0]))
    negative = not constant_y and _kendall_negative(x_arr, y_arr)
    if negative:  # the mirrored estimator: regress -y on x, then negate back
        b_lo, b, b_hi = (-v for v in reversed(_slope_estimates(x_arr, -y_arr, alpha)))
    else:
        b_lo, b, b_hi = _slope_estimates(x_arr, y_arr, alpha)

    def intercept(slope: float) -> float:
        return float(np.median(y_arr - slope * x_arr))

    return PassingBablok(
        slope=b,
        slope_ci=(b_lo, b_hi),
        intercept=intercept(b),
        intercept_ci=(intercept(b_hi), intercept(b_lo)),
    )
