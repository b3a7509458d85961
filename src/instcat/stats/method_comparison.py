"""The statistics block of a trial's paired results, to CLSI EP09 level.

Everything is computed on the data divided by the power of ten of their largest value
(taken to 15 significant digits, then the decimal exponent shifted), and the results
multiplied back. Nothing in between can overflow, and data multiplied by 10^k (with
the margin) give the same scaled values, so bias, SD, limits and intercepts scale by
10^k while slopes, p-values and verdicts stay as they were. Scaling by a power of two
instead would be exact, but would not give the same scaled values for data multiplied
by a power of ten, and Passing–Bablok depends on exact coincidences (slopes of exactly
−1 are dropped) that such rounding can make or break.

Input whose differences or statistics cannot be represented as normal doubles (they
would overflow to infinity, or underflow into the subnormal range and lose
precision) raises `StatisticsError`: such a trial cannot be stored with finite,
meaningful statistics. Parts that are undefined for valid data (no Passing–Bablok
regression) are None, with the reason in `notes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from instcat.stats.agreement import Interval, Tost, agreement_of, scaled_tost
from instcat.stats.inputs import (
    TINY,
    Floats,
    StatisticsError,
    as_pairs,
    checked_alpha,
    checked_margin,
)
from instcat.stats.linearity import Linearity, cusum_linearity
from instcat.stats.passing_bablok import PassingBablok, passing_bablok

EP09_MIN_PAIRS = 40  # CLSI EP09: at least 40 samples for a method comparison
FEW_PAIRS = "few_pairs"
NOISE_UNITS = 8  # rounding units below which an intercept is taken as 0


@dataclass(frozen=True)
class MethodComparison:
    n: int
    bias: float
    bias_ci: Interval
    sd: float
    loa: Interval
    loa_ci: tuple[Interval, Interval]
    tost: Tost
    passing_bablok: PassingBablok | None
    linearity: Linearity | None
    notes: tuple[str, ...]

    @property
    def proportional_bias(self) -> bool | None:
        """Whether the slope's interval excludes 1 (None without a regression)."""
        if self.passing_bablok is None:
            return None
        low, high = self.passing_bablok.slope_ci
        return not low <= 1.0 <= high

    @property
    def constant_bias(self) -> bool | None:
        """Whether the intercept's interval excludes 0 (None without a regression)."""
        if self.passing_bablok is None:
            return None
        low, high = self.passing_bablok.intercept_ci
        return not low <= 0.0 <= high

    def as_dict(self) -> dict[str, Any]:
        """The contract's "statistics" object (JSON-ready: lists, floats, bools, None)."""
        regression: dict[str, Any] | None = None
        if self.passing_bablok is not None:
            regression = self.passing_bablok.as_dict()
            if self.linearity is not None:
                regression["linearity"] = self.linearity.as_dict()
        lower, upper = self.loa_ci
        return {
            "n": self.n,
            "bias": self.bias,
            "bias_ci": list(self.bias_ci),
            "sd": self.sd,
            "loa": list(self.loa),
            "loa_ci": {"lower": list(lower), "upper": list(upper)},
            "tost": self.tost.as_dict(),
            "passing_bablok": regression,
            "proportional_bias": self.proportional_bias,
            "constant_bias": self.constant_bias,
            "notes": list(self.notes),
        }


def _decimal(value: float) -> tuple[str, int]:
    """The value to 15 significant digits: (mantissa text, decimal exponent)."""
    mantissa, _, exponent = f"{value:.14e}".partition("e")
    return mantissa, int(exponent)


class _Scale:
    """Division by the power of ten of the largest value and back, refusing what does not fit.

    Values are taken to 15 significant digits (all a double reliably holds) and their
    decimal exponent shifted, so data multiplied by 10^k give the very same scaled values
    as the data themselves; the results are multiplied back with a single rounding.
    """

    def __init__(self, y: Floats, x: Floats) -> None:
        peak = float(max(np.max(np.abs(y)), np.max(np.abs(x))))
        self.power = _decimal(peak)[1] if peak > 0 else 0

    def down(self, values: Floats, name: str) -> Floats:
        """Values to 15 significant digits, their decimal exponent shifted: no rounding
        that depends on the unit, so data × 10^k give these very same doubles."""
        shifted = []
        for value in values.tolist():
            mantissa, exponent = _decimal(value)
            shifted.append(float(f"{mantissa}e{exponent - self.power}"))
        return self._checked(values, np.array(shifted, dtype=np.float64), name)

    def divide(self, values: Floats, name: str) -> Floats:
        """Values divided by the power of ten (one rounding: for differences, which carry
        the data's rounding anyway)."""
        # 10^p as a double is normal for 0 ≤ p ≤ 308; for p < 0 multiply by 10^−p instead,
        # since 10^p itself would be subnormal (imprecise) near −308.
        if self.power >= 0:
            scaled: Floats = values / 10.0**self.power
        else:
            scaled = values * 10.0 ** (-self.power)
        return self._checked(values, scaled, name)

    @staticmethod
    def _checked(values: Floats, scaled: Floats, name: str) -> Floats:
        lost = (values != 0) & (np.abs(scaled) < TINY)
        if np.any(lost):
            at = int(np.flatnonzero(lost)[0])
            raise StatisticsError(
                f"{name} value at position {at} is too small next to the largest value: "
                "the values span too wide a range to be compared"
            )
        return scaled

    def up(self, value: float, what: str) -> float:
        """The value in the data's own unit, checked to be a finite normal double."""
        result = float(Decimal(value).scaleb(self.power)) if value != 0 else value
        if not math.isfinite(result):
            raise StatisticsError(f"the {what} would overflow: the values are too large")
        if value != 0 and abs(result) < TINY:
            raise StatisticsError(f"the {what} would underflow: the values are too small")
        return result

    def up_pair(self, pair: Interval, what: str) -> Interval:
        return self.up(pair[0], what), self.up(pair[1], what)

    def margin(self, margin: float) -> float:
        """The margin in the scaled unit (it may round to 0 or ∞ next to extreme data)."""
        mantissa, exponent = _decimal(margin)
        return float(f"{mantissa}e{exponent - self.power}")


def _check_normal(name: str, values: Floats) -> None:
    """Subnormal values have already lost precision: statistics from them would underflow."""
    small = (values != 0) & (np.abs(values) < TINY)
    if np.any(small):
        at = int(np.flatnonzero(small)[0])
        raise StatisticsError(
            f"{name} at position {at} is too close to zero (a subnormal number): "
            "the statistics would underflow"
        )


def compare_methods(
    candidate: Sequence[float] | Floats,
    reference: Sequence[float] | Floats,
    margin: float,
    alpha: float = 0.05,
) -> MethodComparison:
    """The contract's statistics block for paired candidate/reference results.

    α sets the TOST level and the confidence of bias_ci, loa_ci and the Passing–Bablok
    limits (95 % at the default 0.05); the limits of agreement always use 1.96.
    `passing_bablok` (and the bias verdicts) are None when the regression is undefined
    for the data; `notes` then says why, and holds "few_pairs" below 40 pairs.
    """
    y, x = as_pairs(candidate, reference)
    margin = checked_margin(margin)
    alpha = checked_alpha(alpha)
    _check_normal("candidate value", y)
    _check_normal("reference value", x)
    with np.errstate(over="ignore"):  # overflow is checked for just below
        differences = y - x
    if not np.all(np.isfinite(differences)):
        raise StatisticsError("the differences would overflow: the values are too large")
    _check_normal("difference", differences)
    scale = _Scale(y, x)
    ys, xs = scale.down(y, "candidate"), scale.down(x, "reference")
    # The differences are taken from the data as given (exact when the data agree to the
    # last bit, e.g. a constant offset) and then scaled, not recomputed from scaled data.
    d = scale.divide(differences, "difference")
    agreement = agreement_of(d, alpha)
    lower_ci, upper_ci = agreement.loa_ci
    notes: list[str] = []
    if agreement.n < EP09_MIN_PAIRS:
        notes.append(FEW_PAIRS)
    regression, linearity = _regression(xs, ys, alpha, scale, notes)
    return MethodComparison(
        n=agreement.n,
        bias=scale.up(agreement.bias, "bias"),
        bias_ci=scale.up_pair(agreement.bias_ci, "bias interval"),
        sd=scale.up(agreement.sd, "SD of the differences"),
        loa=scale.up_pair(agreement.loa, "limits of agreement"),
        loa_ci=(
            scale.up_pair(lower_ci, "interval of the lower limit of agreement"),
            scale.up_pair(upper_ci, "interval of the upper limit of agreement"),
        ),
        tost=scaled_tost(d, scale.margin(margin), margin, alpha),
        passing_bablok=regression,
        linearity=linearity,
        notes=tuple(notes),
    )


def _regression(
    xs: Floats, ys: Floats, alpha: float, scale: _Scale, notes: list[str]
) -> tuple[PassingBablok | None, Linearity | None]:
    """Passing–Bablok on the scaled data, in the data's unit, and its linearity test."""
    try:
        fit = passing_bablok(xs, ys, alpha)
    except StatisticsError as undefined:
        notes.append(str(undefined))
        return None, None
    linearity = cusum_linearity(xs, ys, fit.intercept, fit.slope)
    # An intercept is median(y − b·x): below a few rounding units of the terms it is
    # noise, and reads as 0 (it would otherwise underflow for data near the smallest
    # doubles, refusing sound data for the sake of noise).
    steepest = max(abs(fit.slope_ci[0]), abs(fit.slope), abs(fit.slope_ci[1]))
    peak = float(max(np.max(np.abs(xs)), np.max(np.abs(ys))))
    noise = NOISE_UNITS * float(np.finfo(np.float64).eps) * peak * (1.0 + steepest)

    def intercept(value: float) -> float:
        return 0.0 if abs(value) <= noise else scale.up(value, "intercept")

    low, high = fit.intercept_ci
    regression = PassingBablok(
        slope=fit.slope,
        slope_ci=fit.slope_ci,
        intercept=intercept(fit.intercept),
        intercept_ci=(intercept(low), intercept(high)),
    )
    return regression, linearity
