"""Bland–Altman agreement and the paired TOST equivalence test.

* differences are d = candidate − reference; `bias` = mean(d); `sd` = sample SD
  of d (n − 1 in the denominator);
* `bias_ci` = bias ± t(1 − α/2; n − 1) · sd/√n (Student's t, 95 % by default);
* `loa` (limits of agreement, Bland & Altman 1986, Lancet i:307–310) = bias ± 1.96 sd;
* `loa_ci`: each limit ± t(1 − α/2; n − 1) · √(3 sd²/n), the approximate standard
  error of a limit (same paper, section "Precision of estimated limits of agreement");
* TOST (Schuirmann 1987, J Pharmacokinet Biopharm 15:657–680): two one-sided
  paired t tests of H0: mean d ≤ −margin and H0: mean d ≥ +margin; `p_value` is
  the larger one-sided p value and the methods are `equivalent` when it is < α.

When every difference is the same (zero SD) the t statistics are undefined; the
results are then their limits as the SD shrinks to 0: sd = 0, bias_ci = loa =
loa_ci bounds = the point itself, and TOST p_value = 0.0 (equivalent) when
|bias| < margin, else 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import special  # type: ignore[import-untyped, unused-ignore]  # stubs optional

from instcat.stats.inputs import (
    Floats,
    StatisticsError,
    as_pairs,
    as_values,
    checked_alpha,
    checked_margin,
    mean_and_sd,
)

LOA_Z = 1.96  # limits of agreement: bias ± 1.96 SD, as the contract states

Interval = tuple[float, float]


@dataclass(frozen=True)
class BlandAltman:
    n: int
    bias: float
    bias_ci: Interval
    sd: float
    loa: Interval
    loa_ci: tuple[Interval, Interval]  # (lower limit's interval, upper limit's interval)


@dataclass(frozen=True)
class Tost:
    margin: float
    p_value: float
    equivalent: bool

    def as_dict(self) -> dict[str, Any]:
        """The contract's "tost" object."""
        return {"margin": self.margin, "p_value": self.p_value, "equivalent": self.equivalent}


# scipy.special directly: the values scipy.stats.t computes (it calls these same
# functions), without its per-call argument handling, which cost more than the maths.


def t_ppf(q: float, df: int) -> float:
    """Student's t quantile (= scipy.stats.t.ppf)."""
    return float(special.stdtrit(df, q))


def t_cdf(t: float, df: int) -> float:
    """Student's t distribution function (= scipy.stats.t.cdf; sf(t) is cdf(−t))."""
    return float(special.stdtr(df, t))


def bland_altman(
    candidate: Sequence[float] | Floats, reference: Sequence[float] | Floats, alpha: float = 0.05
) -> BlandAltman:
    """Bias and its interval, SD of differences, limits of agreement and their intervals."""
    y, x = as_pairs(candidate, reference)
    return agreement_of(y - x, checked_alpha(alpha))


def agreement_of(d: Floats, alpha: float) -> BlandAltman:
    """`bland_altman` of checked differences d = candidate − reference."""
    n = int(d.size)
    bias, sd = mean_and_sd(d)
    t = t_ppf(1.0 - alpha / 2.0, n - 1)
    half = t * sd / math.sqrt(n)
    lower, upper = bias - LOA_Z * sd, bias + LOA_Z * sd
    # √(3 sd²/n) written as sd·√(3/n): the same number without squaring sd.
    limit_half = t * sd * math.sqrt(3.0 / n)
    return BlandAltman(
        n=n,
        bias=bias,
        bias_ci=(bias - half, bias + half),
        sd=sd,
        loa=(lower, upper),
        loa_ci=((lower - limit_half, lower + limit_half), (upper - limit_half, upper + limit_half)),
    )


def paired_tost(differences: Sequence[float] | Floats, margin: float, alpha: float = 0.05) -> Tost:
    """Two one-sided paired t tests of the mean difference against ±margin.

    p_lower tests H0: mean ≤ −margin (t = (mean + margin)/se, upper tail) and
    p_upper tests H0: mean ≥ +margin (t = (mean − margin)/se, lower tail), each
    with n − 1 degrees of freedom; p_value = max(p_lower, p_upper).
    """
    d = as_values("differences", differences)
    if d.size < 3:
        raise StatisticsError(f"at least 3 pairs are needed (got {d.size})")
    margin = checked_margin(margin)
    alpha = checked_alpha(alpha)
    return scaled_tost(d, margin, margin, alpha)


def scaled_tost(d: Floats, margin: float, reported_margin: float, alpha: float) -> Tost:
    """TOST on differences and a margin given in the same (possibly rescaled) unit."""
    mean, sd = mean_and_sd(d)
    if sd == 0.0:
        p_value = 0.0 if abs(mean) < margin else 1.0
    else:
        se = sd / math.sqrt(d.size)
        p_lower = t_cdf(-(mean + margin) / se, d.size - 1)  # the upper tail, sf
        p_upper = t_cdf((mean - margin) / se, d.size - 1)
        p_value = max(p_lower, p_upper)
    return Tost(margin=reported_margin, p_value=p_value, equivalent=bool(p_value < alpha))
