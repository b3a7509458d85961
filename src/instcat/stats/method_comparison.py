"""Split-sample (method-comparison) statistics for a trial's paired results.

Conventions (CONTRACT.md, "Statistics conventions"):

* differences are d = candidate − reference; `bias` = mean(d); `sd` = sample SD
  of d (n − 1 in the denominator);
* `bias_ci` = bias ± t(1 − α/2; n − 1) · sd/√n (Student's t, 95 % by default);
* `loa` (limits of agreement, Bland & Altman 1986, Lancet i:307–310) = bias ± 1.96 sd;
* TOST (Schuirmann 1987, J Pharmacokinet Biopharm 15:657–680): two one-sided
  paired t tests of H0: mean d ≤ −margin and H0: mean d ≥ +margin; `p_value` is
  the larger one-sided p value and the methods are `equivalent` when it is < α;
* Passing–Bablok regression (Passing & Bablok 1983, J Clin Chem Clin Biochem
  21:709–720) of candidate (y) on reference (x); see `passing_bablok`.

Degenerate inputs.  Fewer than 3 pairs, lists of different lengths, values that
are not finite numbers, a margin that is not a positive finite number or α
outside (0, 1) raise `StatisticsError`.  When every difference is the same
(zero SD), the t statistics are undefined; the results are then the limits of
the t based ones as the SD shrinks to 0: sd = 0, bias_ci = loa = [bias, bias],
and TOST p_value = 0.0 (equivalent) when |bias| < margin, else 1.0 (not
equivalent).  When Passing–Bablok is undefined for the data (see
`passing_bablok`), `compare_methods` reports `passing_bablok = None`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from instcat.substitution.passing_bablok import PairwiseSlopes

LOA_Z = 1.96  # limits of agreement: bias ± 1.96 SD, as the contract states
# Up to this many pairs the sign of Kendall's τ is counted over an n × n table directly,
# well below scipy's per-call overhead; beyond it scipy's O(n log n) version is used.
KENDALL_DIRECT_MAX = 1_000

__all__ = [
    "BlandAltman",
    "MethodComparison",
    "PassingBablok",
    "StatisticsError",
    "Tost",
    "bland_altman",
    "compare_methods",
    "paired_tost",
    "passing_bablok",
]


class StatisticsError(ValueError):
    """The input cannot be analysed; the message says why."""


@dataclass(frozen=True)
class PassingBablok:
    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    intercept_ci: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "slope": self.slope,
            "slope_ci": list(self.slope_ci),
            "intercept": self.intercept,
            "intercept_ci": list(self.intercept_ci),
        }


@dataclass(frozen=True)
class Tost:
    margin: float
    p_value: float
    equivalent: bool

    def as_dict(self) -> dict[str, Any]:
        return {"margin": self.margin, "p_value": self.p_value, "equivalent": self.equivalent}


@dataclass(frozen=True)
class BlandAltman:
    n: int
    bias: float
    bias_ci: tuple[float, float]
    sd: float
    loa: tuple[float, float]


@dataclass(frozen=True)
class MethodComparison:
    n: int
    bias: float
    bias_ci: tuple[float, float]
    sd: float
    loa: tuple[float, float]
    tost: Tost
    passing_bablok: PassingBablok | None

    def as_dict(self) -> dict[str, Any]:
        """The contract's "statistics" object (JSON-ready: lists, floats, bools, None)."""
        return {
            "n": self.n,
            "bias": self.bias,
            "bias_ci": list(self.bias_ci),
            "sd": self.sd,
            "loa": list(self.loa),
            "tost": self.tost.as_dict(),
            "passing_bablok": None
            if self.passing_bablok is None
            else self.passing_bablok.as_dict(),
        }


# -- input checks ------------------------------------------------------------------


def _values(name: str, values: Sequence[float]) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 1:
        array = values  # already checked (the functions below pass arrays to each other)
    elif isinstance(values, list) and all(type(v) is float or type(v) is int for v in values):
        array = np.array(values, dtype=np.float64)  # the common case: plain JSON numbers
    else:
        array = _checked_values(name, values)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise StatisticsError(f"{name} value at position {int(bad[0])} is not a finite number")
    return array


def _checked_values(name: str, values: Sequence[float]) -> np.ndarray:
    items = np.asarray(values, dtype=object)
    if items.ndim != 1:
        raise StatisticsError(f"{name} must be a flat list of numbers")
    numeric = [isinstance(v, numbers.Real) and not isinstance(v, bool | str) for v in items]
    if not all(numeric):
        raise StatisticsError(f"{name} value at position {numeric.index(False)} is not a number")
    return items.astype(np.float64)


def _pairs(candidate: Sequence[float], reference: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = _values("candidate", candidate)
    x = _values("reference", reference)
    if y.size != x.size:
        raise StatisticsError(
            f"candidate and reference must have the same number of values "
            f"(got {y.size} and {x.size})"
        )
    if y.size < 3:
        raise StatisticsError(f"at least 3 pairs are needed (got {y.size})")
    return y, x


def _alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise StatisticsError(f"alpha must be between 0 and 1 (got {alpha!r})")
    return float(alpha)


def _margin(margin: float) -> float:
    numeric = isinstance(margin, int | float) and not isinstance(margin, bool)
    if not (numeric and math.isfinite(margin) and margin > 0):
        raise StatisticsError(f"margin must be a positive finite number (got {margin!r})")
    return float(margin)


def _mean_and_sd(d: np.ndarray) -> tuple[float, float]:
    if np.all(d == d[0]):  # exactly zero spread: avoid rounding noise in mean and SD
        return float(d[0]), 0.0
    return float(np.mean(d)), float(np.std(d, ddof=1))


# -- distributions ---------------------------------------------------------------------
# scipy.special directly: the values scipy.stats.t and .norm compute (they call these same
# functions), without their per-call argument handling, which cost more than the maths.


def _t_ppf(q: float, df: int) -> float:
    """Student's t quantile (= scipy.stats.t.ppf)."""
    return float(special.stdtrit(df, q))


def _t_cdf(t: float, df: int) -> float:
    """Student's t distribution function (= scipy.stats.t.cdf; sf(t) is cdf(−t))."""
    return float(special.stdtr(df, t))


def _kendall_negative(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether Kendall's τ_b of (x, y) is below 0: its sign is that of concordant − discordant."""
    if x.size > KENDALL_DIRECT_MAX:
        return bool(stats.kendalltau(x, y).statistic < 0)
    concordance = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    return bool(concordance.sum() < 0)


# -- Bland–Altman and TOST ----------------------------------------------------------


def bland_altman(
    candidate: Sequence[float], reference: Sequence[float], alpha: float = 0.05
) -> BlandAltman:
    """Bias, its (1 − α) Student-t interval, SD of differences and limits of agreement."""
    y, x = _pairs(candidate, reference)
    alpha = _alpha(alpha)
    n = int(y.size)
    bias, sd = _mean_and_sd(y - x)
    half = _t_ppf(1.0 - alpha / 2.0, n - 1) * sd / math.sqrt(n)
    return BlandAltman(
        n=n,
        bias=bias,
        bias_ci=(bias - half, bias + half),
        sd=sd,
        loa=(bias - LOA_Z * sd, bias + LOA_Z * sd),
    )


def paired_tost(differences: Sequence[float], margin: float, alpha: float = 0.05) -> Tost:
    """Two one-sided paired t tests of the mean difference against ±margin.

    p_lower tests H0: mean ≤ −margin (t = (mean + margin)/se, upper tail) and
    p_upper tests H0: mean ≥ +margin (t = (mean − margin)/se, lower tail), each
    with n − 1 degrees of freedom; p_value = max(p_lower, p_upper).
    """
    d = _values("differences", differences)
    if d.size < 3:
        raise StatisticsError(f"at least 3 pairs are needed (got {d.size})")
    margin = _margin(margin)
    alpha = _alpha(alpha)
    mean, sd = _mean_and_sd(d)
    if sd == 0.0:
        p_value = 0.0 if abs(mean) < margin else 1.0
    else:
        se = sd / math.sqrt(d.size)
        p_lower = _t_cdf(-(mean + margin) / se, d.size - 1)  # the upper tail, sf
        p_upper = _t_cdf((mean - margin) / se, d.size - 1)
        p_value = max(p_lower, p_upper)
    return Tost(margin=margin, p_value=p_value, equivalent=bool(p_value < alpha))


# -- Passing–Bablok ------------------------------------------------------------------


def _positions(doubled: int, shift: int) -> list[int]:
    """1-based positions of the order statistic at rank doubled/2 + 1/2, shifted.

    An odd `doubled` names one slope, S_((doubled+1)/2 + shift); an even one the
    mean of S_(doubled/2 + shift) and the next, as for a median.
    """
    if doubled % 2:
        return [(doubled + 1) // 2 + shift]
    return [doubled // 2 + shift, doubled // 2 + 1 + shift]


def _slope_estimates(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, float, float]:
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


def passing_bablok(x: Sequence[float], y: Sequence[float], alpha: float = 0.05) -> PassingBablok:
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
    y_arr, x_arr = _pairs(y, x)
    alpha = _alpha(alpha)
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


# -- everything together -------------------------------------------------------------


def compare_methods(
    candidate: Sequence[float],
    reference: Sequence[float],
    margin: float,
    alpha: float = 0.05,
) -> MethodComparison:
    """The contract's statistics block for paired candidate/reference results.

    α sets the TOST level and the confidence of bias_ci and of the Passing–Bablok
    limits (95 % at the default 0.05); the limits of agreement always use 1.96.
    `passing_bablok` is None when the regression is undefined for the data.
    """
    y, x = _pairs(candidate, reference)
    margin = _margin(margin)
    alpha = _alpha(alpha)
    agreement = bland_altman(y, x, alpha)
    try:
        regression: PassingBablok | None = passing_bablok(x, y, alpha)
    except StatisticsError:
        regression = None
    return MethodComparison(
        n=agreement.n,
        bias=agreement.bias,
        bias_ci=agreement.bias_ci,
        sd=agreement.sd,
        loa=agreement.loa,
        tost=paired_tost(y - x, margin, alpha),
        passing_bablok=regression,
    )
