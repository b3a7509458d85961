"""EP09-level additions to the trial statistics: limits-of-agreement intervals, bias
verdicts, the CUSUM linearity test, notes, scale-free results and refused input."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from instcat.stats import StatisticsError, bland_altman, compare_methods, cusum_linearity
from tests.unit.test_statistics import MCR_CASES, MINI, WRIGHT

# -- limits of agreement and their intervals ---------------------------------------------------


def test_loa_intervals_on_the_lancet_pefr_example() -> None:
    """Bland & Altman 1986 (Lancet i:307–310), Table 1, first readings, Wright − mini Wright.

    Worked by hand from the formula (the paper drew its limits at 2 SD; ours are at 1.96):
    n = 17, d̄ = −36/17 = −2.117647, SD = 38.765130, t(0.975, 16) = 2.119905,
    √(3 SD²/n) = SD·√(3/17) = 38.765130 × 0.420084 = 16.284612,
    half-width = 2.119905 × 16.284612 = 34.521835;
    lower limit = −2.117647 − 1.96 × 38.765130 = −78.097302 → [−112.619136, −43.575467];
    upper limit = −2.117647 + 1.96 × 38.765130 = 73.862007 → [39.340173, 108.383842].
    (The paper's own interval for its lower limit, −79.7, is about −114 to −45: the same
    half-width around a limit 1.6 l/min lower.)
    """
    ba = bland_altman(WRIGHT, MINI)
    assert ba.loa == pytest.approx((-78.097302, 73.862007), abs=1e-6)
    (lower_lo, lower_hi), (upper_lo, upper_hi) = ba.loa_ci
    assert (lower_lo, lower_hi) == pytest.approx((-112.619136, -43.575467), abs=1e-6)
    assert (upper_lo, upper_hi) == pytest.approx((39.340173, 108.383842), abs=1e-6)
    # and exactly the formula, with scipy's t quantile
    half = stats.t.ppf(0.975, 16) * math.sqrt(3 * ba.sd**2 / 17)
    assert lower_hi - ba.loa[0] == pytest.approx(half, rel=1e-12)
    assert ba.loa[1] - upper_lo == pytest.approx(half, rel=1e-12)
    block = compare_methods(WRIGHT, MINI, margin=40).as_dict()
    assert block["loa_ci"] == {
        "lower": pytest.approx([lower_lo, lower_hi], rel=1e-12),
        "upper": pytest.approx([upper_lo, upper_hi], rel=1e-12),
    }
    assert block["notes"] == ["few_pairs"]  # 17 pairs: fewer than EP09's 40


def test_zero_spread_gives_point_intervals_of_the_limits() -> None:
    reference = [10.25, 20.5, 30.75, 40.0]
    result = compare_methods([r + 0.5 for r in reference], reference, margin=1.0)
    assert result.loa_ci == ((0.5, 0.5), (0.5, 0.5))


# -- CUSUM linearity -----------------------------------------------------------------------------


def test_cusum_reproduces_mcr_unit_test_under_ordinary_regression() -> None:
    """mcr's test.calcCUSUM.call: x = 1…10, y = 1,3,2,4,6,5,7,9,8,10, method.reg = "LinReg".

    OLS: slope = Sxy/Sxx = 79.5/82.5 = 0.963636…, intercept = 5.5 − 5.5 × slope = 0.2.
    Residuals alternate in a pattern with 5 above and 5 below, so each scores ±1; mcr
    expects cusum −1, 0, −1, −2, −1, −2, −1, 0, −1, 0 and max.cusum 2.
    """
    x = np.arange(1.0, 11.0)
    y = np.array([1, 3, 2, 4, 6, 5, 7, 9, 8, 10], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    assert (slope, intercept) == pytest.approx((79.5 / 82.5, 0.2), abs=1e-12)
    result = cusum_linearity(x, y, intercept, slope)
    assert (result.above, result.below) == (5, 5)
    assert result.cusum == (-1.0, 0.0, -1.0, -2.0, -1.0, -2.0, -1.0, 0.0, -1.0, 0.0)
    assert result.cusum_max == 2.0
    assert result.critical == pytest.approx(1.36 * math.sqrt(6))  # = 3.3313
    assert result.linear is True


def test_cusum_order_and_maximum_do_not_depend_on_the_slope_sign() -> None:
    x = np.arange(1.0, 11.0)
    y = -np.array([1, 3, 2, 4, 6, 5, 7, 9, 8, 10], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    assert cusum_linearity(x, y, intercept, slope).cusum_max == 2.0


def test_a_clearly_curved_relation_is_not_linear() -> None:
    """y = x²/100 on 50 evenly spaced x in 1…100: the Passing–Bablok line (slope 1.01)
    leaves the ends above and the middle below, so the scores run one way for long
    stretches: cusum_max 12 against a critical 1.36 × √(24 + 1) = 6.8."""
    x = np.linspace(1, 100, 50)
    block = compare_methods((x**2 / 100).tolist(), x.tolist(), margin=5).as_dict()
    linearity = block["passing_bablok"]["linearity"]
    assert linearity == {"cusum_max": 12.0, "critical": pytest.approx(6.8), "linear": False}


def test_a_straight_relation_with_noise_is_linear() -> None:
    """y = 1.02x + 0.5 plus a fixed, patternless ±0.3 wobble: residual signs alternate."""
    x = np.linspace(2, 98, 48)
    wobble = 0.3 * np.sin(np.arange(48) * 2.4)
    block = compare_methods((1.02 * x + 0.5 + wobble).tolist(), x.tolist(), margin=5).as_dict()
    linearity = block["passing_bablok"]["linearity"]
    assert linearity["linear"] is True
    assert linearity["cusum_max"] <= linearity["critical"]
    assert block["notes"] == []


# -- bias verdicts and notes ---------------------------------------------------------------------


def test_bias_verdicts_follow_the_passing_bablok_intervals() -> None:
    x = np.linspace(10, 100, 45)
    wobble = 0.2 * np.sin(np.arange(45) * 2.4)
    same = compare_methods((x + wobble).tolist(), x.tolist(), margin=1)
    assert (same.proportional_bias, same.constant_bias) == (False, False)
    proportional = compare_methods((1.1 * x + wobble).tolist(), x.tolist(), margin=1)
    assert proportional.proportional_bias is True
    low, high = proportional.passing_bablok.slope_ci
    assert not low <= 1 <= high
    shifted = compare_methods((x + 3 + wobble).tolist(), x.tolist(), margin=5)
    assert (shifted.proportional_bias, shifted.constant_bias) == (False, True)
    assert shifted.passing_bablok.intercept_ci[0] > 0


def test_no_regression_gives_null_verdicts_and_a_note() -> None:
    block = compare_methods([1, 2, 3, 4, 5, 6], [5, 5, 5, 5, 5, 5], margin=3).as_dict()
    assert block["passing_bablok"] is None
    assert block["proportional_bias"] is None and block["constant_bias"] is None
    assert block["notes"][0] == "few_pairs"
    assert "all reference values are equal" in block["notes"][1]
    too_few = compare_methods([1.1, 2.0, 3.2], [1, 2, 3], margin=1).as_dict()
    assert too_few["passing_bablok"] is None
    assert any("too few pairs" in note for note in too_few["notes"])


# -- results scale with the data -----------------------------------------------------------------

SCALED = ("bias", "sd")
SCALED_PAIRS = ("bias_ci", "loa")


@pytest.mark.parametrize("k", [-100, -50, -3, 3, 50, 100])
@pytest.mark.parametrize("case", ["PEFR", "TD15", "TD20"])
def test_multiplying_data_and_margin_by_a_power_of_ten_scales_the_results(case, k) -> None:
    if case == "PEFR":
        x, y, margin = MINI, WRIGHT, 40.0
    else:
        x, y, *_ = MCR_CASES[case]
        margin = 5.0
    factor = 10.0**k
    base = compare_methods(y, x, margin).as_dict()
    scaled = compare_methods([v * factor for v in y], [v * factor for v in x], margin * factor)
    got = scaled.as_dict()
    for key in SCALED:
        assert got[key] == pytest.approx(base[key] * factor, rel=1e-9, abs=0), key
    for key in SCALED_PAIRS:
        assert got[key] == pytest.approx([v * factor for v in base[key]], rel=1e-9), key
    for side in ("lower", "upper"):
        expected = [v * factor for v in base["loa_ci"][side]]
        assert got["loa_ci"][side] == pytest.approx(expected, rel=1e-9)
    pb, base_pb = got["passing_bablok"], base["passing_bablok"]
    assert pb["intercept"] == pytest.approx(base_pb["intercept"] * factor, rel=1e-9)
    expected = [v * factor for v in base_pb["intercept_ci"]]
    assert pb["intercept_ci"] == pytest.approx(expected, rel=1e-9)
    assert pb["slope"] == pytest.approx(base_pb["slope"], rel=1e-9)
    assert pb["slope_ci"] == pytest.approx(base_pb["slope_ci"], rel=1e-9)
    assert pb["linearity"] == base_pb["linearity"]
    assert got["tost"]["p_value"] == pytest.approx(base["tost"]["p_value"], rel=1e-9)
    assert got["tost"]["equivalent"] is base["tost"]["equivalent"]
    assert got["tost"]["margin"] == margin * factor
    for key in ("proportional_bias", "constant_bias", "notes", "n"):
        assert got[key] == base[key], key


# -- input whose statistics cannot be represented ------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "reference", "margin", "message"),
    [
        ([1e308, -1e308, 1e308], [-1e308, 1e308, 0.0], 1.0, "overflow"),
        ([1.5e308, 1.7e308, -1.7e308], [1e300, 2e300, 3e300], 1.0, "would overflow"),
        ([1e-320, 2e-320, 3e-320], [1e-320, 1e-320, 1e-320], 1e-320, "subnormal"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 5e-324], 1.0, "subnormal"),
        ([1e-307, 1.00001e-307, 1e-307], [1.000001e-307, 1e-307, 1e-307], 1.0, "difference"),
        ([1e300, 1.0, 2.0], [1e300, 1e-300, 2.0], 1.0, "too small next to"),
    ],
)
def test_values_whose_statistics_overflow_or_underflow_are_refused(
    candidate, reference, margin, message
) -> None:
    with pytest.raises(StatisticsError, match=message):
        compare_methods(candidate, reference, margin)


def test_large_but_representable_values_give_finite_statistics() -> None:
    values = [1e300, 2e300, 3e300, 4e300]
    block = compare_methods([v * 1.01 for v in values], values, margin=1e299).as_dict()
    assert json.loads(json.dumps(block, allow_nan=False)) == block
    assert block["bias"] == pytest.approx(2.5e298, rel=1e-12)


def test_tiny_but_normal_values_are_analysed_and_a_noise_intercept_reads_zero() -> None:
    """Values near 1e-300 are fine; the intercept of y = 1.5x is rounding noise (its
    exact value would be subnormal) and reads as 0 rather than refusing the data."""
    x = [3e-300 * v for v in (1, 2, 3, 4, 5)]
    result = compare_methods([1.5 * v for v in x], x, margin=1e-299)
    assert result.bias == pytest.approx(4.5e-300, rel=1e-12)
    assert result.passing_bablok.slope == pytest.approx(1.5, rel=1e-12)
    pb = result.passing_bablok
    assert (pb.intercept, pb.intercept_ci) == (0.0, (0.0, 0.0))
    assert result.constant_bias is False
