"""Split-sample statistics: Bland–Altman, paired TOST and Passing–Bablok regression."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from instcat.stats import (
    PairwiseSlopes,
    StatisticsError,
    bland_altman,
    compare_methods,
    paired_tost,
    passing_bablok,
)
from instcat.stats.inversions import inversions as _inversions

# -- reference data -------------------------------------------------------------------

# Bland JM, Altman DG (1986) Statistical methods for assessing agreement between two
# methods of clinical measurement. Lancet i:307–310, Table 1: peak expiratory flow
# rate (l/min) of 17 subjects, first reading with the Wright and the mini Wright meter.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]

# Method-comparison test data sets TD13, TD15, TD20, TD41 and TD75 (50 pairs each) and
# their Passing–Bablok results (analytical 95 % intervals) computed with Roche's
# Calanas software, as published in the unit tests of the R package mcr (Roche
# Diagnostics, CRAN), inst/unitTests/runit.mcPaBa.R, which checks mcr's "PaBa" method
# against them to 1e-13.  TD20 and TD75 are negatively correlated (mirrored estimator).
# Columns: reference (x), candidate (y); results: slope, its CI, intercept, its CI.
MCR_CASES = {
    "TD15": (
        [18.654599109456, 17.0610823229594, 37.8076135618173, 51.1413961380522,
         103.985667589592, 34.8605133072495, 35.1146708951621, 16.005996343635,
         68.5890100912778, 62.1699013684068, 18.1641040703209, 94.2563842860796,
         31.67278631354, 18.8059773112482, 67.9347403613216, 18.260239156489,
         87.1550332248675, 98.5843421029197, 20.3747255514258, 4.20199417418543,
         27.7662087802102, 16.6797331091928, 52.3335230459024, 1.25970439645986,
         2.55285163008995, 71.1422300479687, 99.3428902581639, 40.6747911609727,
         82.5924169862313, 64.7062991090824, 1.46968233573658, 83.5389530283147,
         19.8368624090347, 44.339918470983, 19.2879672940529, 86.5484515948081,
         79.8461255550168, 66.1164680506251, 32.8785828616434, 85.634465208222,
         15.772867025856, 102.866851788539, 16.4442973704484, 23.0916021823352,
         83.3011761592876, 9.47357732139885, 15.4574423263928, 67.0394769874472,
         32.7239965276836, 71.7361088013058],
        [15.9116325401596, 17.9423397346645, 58.1755698848695, 49.0779434653576,
         113.758268975683, 35.5525894416901, 39.4088027819502, 15.0167183931276,
         65.8450151148211, 62.6667874119841, 15.8020862675435, 83.9418317622942,
         33.5524291118479, 18.5775089262923, 73.872592767028, 21.600509295785,
         93.4269960011703, 89.8278248717022, 20.130360709819, 4.94910345310486,
         23.1566064984898, 17.336339530418, 56.2280624424048, 1.70969794990576,
         3.40128933880261, 87.5197563754811, 67.3466761237754, 35.6882873995953,
         90.4041198524321, 62.2603160684644, 1.52718831259026, 84.5412183739216,
         19.0003036715583, 51.0624306952549, 12.0291575952956, 55.3970074896586,
         96.7628055558332, 69.6940969840453, 29.1380990869214, 85.4597993067675,
         18.1508502210932, 92.1385811560549, 17.012175857013, 23.0242126162252,
         95.7510267835212, 8.70125548126123, 13.4955271740672, 45.8284262464427,
         31.1175741976669, 69.5490311988868],
        (1.02058852149448, 0.95848878631593, 1.09232009780764),
        (-0.639752984809869, -2.3330808182894, 0.840973102642057),
    ),
    "TD41": (
        [51.2645749891018, 25.057888623163, 87.7627598051843, 62.7082431751683,
         80.1505333459012, 4.62656604009068, 33.8310555651344, 32.0639233133885,
         55.2077551040875, 88.0356768073631, 26.4910934056359, 46.2676105006161,
         67.5309426729014, 69.4845641448515, 99.6168230345125, 29.8740565635394,
         76.4074905899151, 40.4037427291051, 102.582022432525, 77.2420615775276,
         54.4091160177792, 31.6670196474807, 35.3688444029188, 48.4596331809692,
         27.2766177138551, 16.8936814075242, 21.978946351695, 31.8737570958866,
         65.2811331882764, 11.4235216747994, 26.5759954950747, 89.7483619905396,
         70.8540190812346, 81.722195686426, 88.8717635815042, 69.8842397333777,
         41.3339139273995, 46.7715712147959, 7.2758706475883, 107.885815963472,
         72.476537675172, 5.47829692782881, 54.7122861461908, 100.774725860614,
         58.9921395982599, 26.0127119387814, 52.4842022010358, 20.4930187951634,
         19.2251154457486, 15.6062233212609],
        [57.5184652931192, 20.8590706998877, 108.803321969406, 61.9186963049216,
         66.3660888378279, 4.45211496523264, 32.5230480583973, 35.6080901524917,
         53.8918711450082, 60.4588280634825, 26.36826855427, 41.3684710045443,
         64.2210938093771, 56.4507675239752, 104.375984642575, 27.1349756417984,
         94.57022726837, 29.4173054011996, 65.8469193441376, 72.8808353078608,
         52.3451209927057, 29.9746067384427, 41.473958110454, 42.6744860392878,
         36.4560529958421, 16.3614420035519, 25.0786009186081, 23.9554024584609,
         71.1179574648198, 10.0486986665957, 19.0607414061787, 71.7842138052182,
         126.559037624235, 94.0881361451604, 87.2145942516959, 89.5887499202462,
         48.5784251203412, 35.6846235173564, 7.12184193955352, 100.323182519431,
         69.23017359012, 3.82672858010298, 49.4382345176691, 77.5738341281733,
         52.4666442933717, 14.6409084616032, 49.8976536701488, 21.1546025964904,
         12.5229666712546, 13.2198613541858],
        (0.996354386947289, 0.92273624446357, 1.12979173135459),
        (-1.74861851923587, -8.32583620193478, 0.773029866408987),
    ),
    "TD13": (
        [24794529.2480324, 54492735.891554, 71400324.331745, 8244180.28768875,
         52509493.8140207, 49607163.0752203, 83827574.9515994, 47995388.3994996,
         65394597.5719383, 60621910.5809957, 5483014.10574115, 84661259.5956848,
         73871417.6242463, 47943755.9865663, 59617365.1220441, 59751718.1536454,
         67526202.3095708, 43799674.6882773, 45633493.334196, 26732793.3066674,
         53942813.5962028, 78076962.3282439, 96898323.9438709, 77073719.7541118,
         29186602.9770011, 39530221.4111076, 78230070.4374343, 68911992.683726,
         13516437.3215798, 28244384.8442956, 46735070.8937759, 79787020.4301856,
         26196348.8304632, 67274300.1782288, 59058632.8684933, 34347561.2827838,
         70726905.9209775, 13887668.6310818, 15243794.7219811, 51762357.5861341,
         3777530.27538479, 44537496.2805357, 73284747.8866719, 24185258.6285496,
         14458656.8718652, 31552195.7485487, 4041571.59760381, 72470788.8984188,
         28884896.9586527, 18145471.5994012],
        [21105237.1498578, 42316902.0455709, 65208707.2020304, 9247931.74778137,
         66634360.9634913, 37957698.7793361, 95608490.3375025, 57881336.7248612,
         59825287.298063, 62919716.7347258, 6453173.26688807, 68154558.3186772,
         61432886.4897738, 36247951.2864404, 45366670.6876532, 45133759.6066822,
         58880154.1326545, 53586686.3682414, 51087248.3563812, 20047078.7909169,
         55296719.8327848, 73453100.6344544, 85666146.0292695, 69278207.448691,
         27769147.8340553, 45079260.0802043, 74091530.765788, 85172813.2968523,
         14816266.0519741, 28142372.2618154, 47079841.1549798, 92681460.6305504,
         27362811.205277, 67593588.7363532, 59123504.6402203, 42074407.0566868,
         58253866.2865107, 11517688.8782602, 13779895.5448975, 59500057.0904813,
         3872350.51249896, 35939506.0007184, 100595978.033436, 19394350.6560089,
         12787157.7419875, 33337348.4773022, 3391304.04042858, 62788591.4770521,
         31309875.198729, 19720969.9963234],
        (0.991592719686709, 0.88402817327764, 1.12373138870351),
        (-244854.969408333, -5115890.544572, 2051714.78796142),
    ),
    "TD20": (
        [40.7416675085396, 83.2921878022294, 36.4584614937195, 72.0877727140495,
         105.023225483845, 16.0054850259489, 77.939023513233, 67.9581547886773,
         72.6256313765255, 76.1721718038233, 53.5660975152265, 44.5346723059445,
         65.5050371740949, 34.7466804639362, 96.0978992891711, 22.2521041428996,
         22.5836249521736, 62.0494626614161, 61.9702908007929, 28.2088726776012,
         31.6304427667499, 44.0148198828374, 104.670709377516, 52.7016282328276,
         1.60206831757677, 75.4250970942993, 9.34446754429201, 60.6762586794768,
         73.933484555705, 92.9007223924939, 92.1358694560978, 17.1124285739673,
         16.8171641673365, 54.6806652266699, 66.5315262775023, 92.626350509732,
         89.9333484415825, 92.3201120961047, 76.0988174908423, 17.1096655807122,
         67.8811974065475, 42.3956783976743, 40.0315902646466, 67.1597134632739,
         50.835099276364, 35.8443954390043, 1.26426041082727, 41.0671736784787,
         11.2645309896417, 99.9805522966942],
        [10.7521704713994, 13.4509410376188, 11.2856306611224, 10.7072031331434,
         6.54511523826305, 6.19341973153328, 8.9913906536256, 12.3132146064145,
         13.0068162195109, 4.74699049037311, 9.23390774820934, 9.25776029197391,
         9.76777184256182, 10.3206462496027, 7.63552298198159, 10.3097082932773,
         8.98004925615561, 13.0747427217869, 11.043558452402, 10.6615472307638,
         9.06764709725244, 12.9103504115876, 10.9096799031437, 7.52693609703188,
         9.80669510453226, 10.0521231199264, 9.63095814224613, 8.5641931365438,
         9.2882644554061, 10.6419750816148, 11.4130646454215, 11.4512769554377,
         13.2649021988222, 13.0654807233486, 8.23186894210709, 12.778014425933,
         9.30152382689763, 9.08142311092212, 12.3867931320649, 11.1263164725831,
         7.55471439942213, 12.7413975083685, 8.94432971745523, 10.6831718241507,
         9.95511449623938, 8.68553553767885, 8.5049120707315, 13.349972370573,
         10.3520245838025, 8.71363686499155],
        (-0.00797410004149966, -0.0288699851859214, 0.010701458632505),
        (10.4644989393406, 9.71867624035348, 11.6101730965558),
    ),
    "TD75": (
        [90.9485400480344, 90.7431136750944, 26.3102304346173, 98.1923599874708,
         35.0824973712106, 36.9969067737957, 14.8179253110874, 8.76477378922007,
         32.2168398936375, 91.7976025914269, 75.2891547745564, 40.642084097967,
         93.23660592041, 100.847125571886, 80.0367746433434, 9.73072817138115,
         64.569921021703, 82.102749771495, 61.637913139448, 43.1726018718829,
         30.9426405852636, 61.6489760843261, 72.5337200551608, 11.0971091511447,
         91.1682684359647, 60.1522187636398, 53.6196723233099, 80.3991970785158,
         46.7073650320478, 52.371013380707, 98.5451872718003, 31.1406239614125,
         90.240170196133, 49.0589554374691, 86.9003789837115, 32.9579886227007,
         24.0949524116379, 7.41009094921814, 81.1157940032336, 85.4694193753626,
         42.1429310664425, 38.3807636449311, 19.8071119844752, 4.72048213046477,
         86.48263405132, 88.9649734429405, 51.4221170355993, 88.8534761828361,
         78.6355105622646, 11.799392585867],
        [22.022678199682, 10.5849687064612, 70.545127040311, 1.91497891273671,
         65.9280486240602, 70.4157396621642, 68.4545122022955, 91.022279815723,
         52.5677072283795, 13.1589064936892, 29.1447890966354, 50.8408917564495,
         19.7150011527249, 1.04103018782965, 17.6127620440527, 82.1291792966766,
         42.250983349452, 5.60738627168227, 31.8795662581425, 54.3585165737907,
         80.9769303190462, 40.7327484396029, 31.3717480824724, 94.1612819745663,
         2.88484754250793, 46.6750774514867, 41.4465106338786, 20.031670042957,
         64.765728125989, 51.7559200276114, 6.4110959903549, 44.664188884282,
         6.12057655318134, 42.372324659659, 12.1204881694834, 65.8043448449057,
         82.2468633319095, 104.200093777095, 22.7130359046475, 7.82813668061742,
         53.9881500506756, 69.0313570401099, 67.425743171629, 92.1552906396942,
         8.5364694548145, 17.1251097466213, 60.1446642607691, 18.3849543373421,
         10.7104421280535, 83.3322475975441],
        (-0.995207226008001, -1.08090010053621, -0.908985813824519),
        (99.8952889829088, 95.1117211094814, 106.103632460656),
    ),
}  # fmt: skip


# -- independent brute force ------------------------------------------------------------


def _all_slopes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Every defined slope, materialised and sorted; with K (< −1) and E (= −1).

    Vertical pairs are +∞; −1 is decided with fractions, so the check is exact for
    any doubles.
    """
    i, j = np.triu_indices(x.size, 1)
    dx, dy = x[j] - x[i], y[j] - y[i]
    keep = (dx != 0) | (dy != 0)
    i, j, dx, dy = i[keep], j[keep], dx[keep], dy[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.where(dx == 0, np.inf, dy / np.where(dx == 0, 1.0, dx))
    near = np.flatnonzero((dx != 0) & np.isclose(slopes, -1.0, rtol=1e-9, atol=0))
    exact = {
        int(k): (Fraction(y[j[k]]) - Fraction(y[i[k]])) / (Fraction(x[j[k]]) - Fraction(x[i[k]]))
        for k in near
    }
    minus_one = np.zeros(slopes.size, dtype=bool)
    below = slopes < -1
    for k, q in exact.items():
        minus_one[k] = q == -1
        below[k] = q < -1
    return np.sort(slopes[~minus_one]), int(below.sum()), int(minus_one.sum())


def _brute_passing_bablok(x, y, alpha=0.05):
    """The estimator written out over the full sorted list of slopes."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sign = -1.0 if stats.kendalltau(x, y).statistic < 0 else 1.0
    s, k, _ = _all_slopes(x, sign * y)
    n, big_n = x.size, s.size

    def at(doubled: int) -> float:  # order statistic at rank (doubled + 1)/2, shifted by K
        low = (doubled + 1) // 2 + k
        high = low if doubled % 2 else low + 1
        if low < 1 or high > big_n:
            raise IndexError("rank out of range")
        return (s[low - 1] + s[high - 1]) / 2

    c = stats.norm.ppf(1 - alpha / 2) * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    b, lo, hi = at(big_n), at(round(big_n - c)), at(round(big_n + c))
    if sign < 0:
        b, lo, hi = -b, -hi, -lo
    if not all(map(math.isfinite, (b, lo, hi))):
        raise IndexError("a vertical slope")
    a = lambda slope: float(np.median(y - slope * x))  # noqa: E731
    return b, lo, hi, a(b), a(hi), a(lo)


def _flat(pb) -> tuple[float, ...]:
    return (pb.slope, *pb.slope_ci, pb.intercept, *pb.intercept_ci)


def _random_data(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "continuous":
        x = rng.uniform(1, 100, n)
        return x, 1.03 * x - 0.5 + rng.normal(0, 3, n)
    if kind == "integers":  # many tied slopes, equal x, repeated points
        x = rng.integers(0, 15, n).astype(float)
        return x, x + rng.integers(-3, 4, n)
    if kind == "quarters":  # slopes of exactly −1 and below
        x = rng.integers(0, 40, n) / 2
        return x, -0.3 * x + rng.integers(-8, 9, n) / 4
    if kind == "decimals":  # one decimal place, as lab results are reported
        x = np.round(rng.uniform(0, 8, n), 1)
        return x, np.round(x + rng.normal(0, 0.4, n), 1)
    x = rng.uniform(0, 10, n)  # negatively correlated
    return x, 20 - 1.5 * x + rng.normal(0, 1, n)


KINDS = ["continuous", "integers", "quarters", "decimals", "negative"]


# -- Bland–Altman and TOST -----------------------------------------------------------------


def test_bland_altman_reproduces_the_lancet_pefr_example() -> None:
    """Bland & Altman 1986 (Lancet i:307–310): mean difference −2.1 l/min, SD 38.8 l/min.

    The paper's limits −79.7 and 75.5 are −2.1 ∓ 2 × 38.8 from the rounded figures;
    the contract's limits use 1.96 SD.  The 95 % interval of the bias is the one of
    the paired t test (checked against scipy's).
    """
    ba = bland_altman(WRIGHT, MINI)
    assert ba.n == 17
    assert round(ba.bias, 1) == -2.1
    assert round(ba.sd, 1) == 38.8
    assert round(round(ba.bias, 1) - 2 * round(ba.sd, 1), 1) == -79.7
    assert round(round(ba.bias, 1) + 2 * round(ba.sd, 1), 1) == 75.5
    d = np.subtract(WRIGHT, MINI)
    assert ba.bias == pytest.approx(-36 / 17, abs=1e-12)
    assert ba.sd == pytest.approx(np.std(d, ddof=1), rel=1e-12)
    assert ba.loa == pytest.approx((ba.bias - 1.96 * ba.sd, ba.bias + 1.96 * ba.sd), rel=1e-12)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert ba.bias_ci == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert ba.bias_ci == pytest.approx((-22.0488, 17.8135), abs=1e-4)


@pytest.mark.parametrize("margin", [5.0, 20.0, 40.0, 80.0])
def test_tost_p_values_are_scipys_one_sided_t_tests(margin: float) -> None:
    d = np.subtract(WRIGHT, MINI).astype(float)
    p_lower = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    p_upper = stats.ttest_1samp(d, margin, alternative="less").pvalue
    tost = paired_tost(d, margin)
    assert tost.margin == margin
    assert tost.p_value == pytest.approx(max(p_lower, p_upper), rel=1e-10)
    assert tost.equivalent is bool(max(p_lower, p_upper) < 0.05)


def test_tost_by_hand() -> None:
    """d = 1, 2, 3, 4, 5: mean 3, SD √2.5, se √0.5; margin 6 → t = 9/√0.5 and −3/√0.5, 4 df."""
    tost = paired_tost([1, 2, 3, 4, 5], 6.0)
    t_lower, t_upper = 9 / math.sqrt(0.5), -3 / math.sqrt(0.5)
    assert tost.p_value == pytest.approx(max(stats.t.sf(t_lower, 4), stats.t.cdf(t_upper, 4)))
    assert tost.p_value == pytest.approx(0.006618, abs=1e-6)  # the t = −4.243 side
    assert tost.equivalent is True
    assert paired_tost([1, 2, 3, 4, 5], 6.0, alpha=0.005).equivalent is False


def test_pefr_is_equivalent_within_a_wide_margin_only() -> None:
    assert compare_methods(MINI, WRIGHT, margin=40).tost.equivalent is True
    assert compare_methods(MINI, WRIGHT, margin=15).tost.equivalent is False


def test_differences_are_candidate_minus_reference() -> None:
    result = compare_methods([11, 12, 13.5, 14], [10, 10, 11, 12], margin=5)
    assert result.bias == pytest.approx(1.875)
    assert result.bias > 0


def test_zero_spread_of_differences_has_a_defined_answer() -> None:
    reference = [10.25, 20.5, 30.75, 40.0]
    candidate = [r + 0.5 for r in reference]
    result = compare_methods(candidate, reference, margin=1.0)
    assert result.sd == 0.0
    assert result.bias == pytest.approx(0.5)
    assert result.bias_ci == (result.bias, result.bias)
    assert result.loa == (result.bias, result.bias)
    assert (result.tost.p_value, result.tost.equivalent) == (0.0, True)
    # identical methods: a bias of exactly zero
    same = compare_methods(reference, reference, margin=0.1)
    assert (same.bias, same.sd, same.tost.p_value, same.tost.equivalent) == (0.0, 0.0, 0.0, True)
    # a constant difference at or beyond the margin is not equivalent
    assert paired_tost([2.0, 2.0, 2.0], 2.0).p_value == 1.0
    assert paired_tost([-3.0, -3.0, -3.0], 2.0).equivalent is False


# -- Passing–Bablok against published results ----------------------------------------------


@pytest.mark.parametrize("case", sorted(MCR_CASES))
def test_passing_bablok_matches_the_mcr_reference_results(case: str) -> None:
    """Calanas results for mcr's test data sets (mcr inst/unitTests/runit.mcPaBa.R)."""
    x, y, (slope, slope_lo, slope_hi), (icpt, icpt_lo, icpt_hi) = MCR_CASES[case]
    pb = passing_bablok(x, y)
    assert pb.slope == pytest.approx(slope, rel=1e-12)
    assert pb.slope_ci == pytest.approx((slope_lo, slope_hi), rel=1e-12)
    assert pb.intercept == pytest.approx(icpt, rel=1e-12)
    assert pb.intercept_ci == pytest.approx((icpt_lo, icpt_hi), rel=1e-12)


def test_the_confidence_limits_follow_mcr_not_the_papers_rounding() -> None:
    """TD15: N = 1225, K = 51, C = 234.31: mcr takes ranks 496 and 730 (+K), not 495 and 731."""
    x, y, (_, slope_lo, slope_hi), _ = MCR_CASES["TD15"]
    s, k, _ = _all_slopes(np.array(x), np.array(y))
    assert (s.size, k) == (1225, 51)
    assert (s[496 + k - 1], s[730 + k - 1]) == pytest.approx((slope_lo, slope_hi), rel=1e-12)
    assert s[495 + k - 1] != pytest.approx(slope_lo, rel=1e-6)


# -- Passing–Bablok against a brute force ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_passing_bablok_equals_the_brute_force(kind: str) -> None:
    rng = np.random.default_rng(KINDS.index(kind))
    for n in (5, 8, 13, 40, 120, 300):
        x, y = _random_data(kind, n, rng)
        try:
            expected = _brute_passing_bablok(x, y)
        except IndexError:  # too few pairs for the limits, or a vertical slope
            with pytest.raises(StatisticsError):
                passing_bablok(x, y)
            continue
        assert _flat(passing_bablok(x, y)) == pytest.approx(expected, rel=1e-9, abs=1e-12), n


@pytest.mark.parametrize("kind", KINDS)
def test_slope_selection_equals_the_brute_force_on_every_path(kind: str) -> None:
    """Tiny samples and listing limits force bisection, ties, resampling and listing."""
    rng = np.random.default_rng(100 + KINDS.index(kind))
    for trial in range(12):
        n = int(rng.integers(3, 300))
        x, y = _random_data(kind, n, rng)
        s, below, minus_one = _all_slopes(x, y)
        finite = s[np.isfinite(s)]
        settings = [
            {},
            {"direct_limit": 0, "enumerate_limit": 1, "sample_size": int(rng.integers(1, 40))},
            {"direct_limit": 0, "enumerate_limit": 50, "sample_size": 400},
        ]
        for setting in settings:
            slopes = PairwiseSlopes(x, y, **setting)
            assert (slopes.below_minus_one, slopes.minus_one) == (below, minus_one)
            everything = np.sort(
                np.concatenate([finite, np.full(minus_one, -1.0), s[~np.isfinite(s)]])
            )
            assert slopes.finite + slopes.vertical == everything.size
            if everything.size == 0:
                continue
            ranks = sorted({1, everything.size, *rng.integers(1, everything.size + 1, 8).tolist()})
            got = slopes.order_statistics(ranks)
            assert got == pytest.approx(everything[np.array(ranks) - 1], rel=1e-9, abs=1e-12), (
                kind,
                trial,
                setting,
            )


def test_inversion_count_and_listing() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 17, 64, 65, 257):
        seq = rng.permutation(n)
        expected = {(a, b) for a in range(n) for b in range(a + 1, n) if seq[a] > seq[b]}
        total, first, second = _inversions(seq, collect=True)
        assert total == len(expected)
        assert set(zip(first.tolist(), second.tolist(), strict=True)) == expected


def test_ten_thousand_pairs_against_a_subsample_brute_force_and_exact_ranks() -> None:
    """The full-size path: a 1,500-point subsample is checked against the brute force,
    and on all 10,000 points each returned slope is shown to hold its rank by counting,
    chunk by chunk, the 5·10⁷ slopes below and at it."""
    rng = np.random.default_rng(2024)
    n = 10_000
    for kind in ("continuous", "integers"):
        x, y = _random_data(kind, n, rng)
        sub = rng.choice(n, 1_500, replace=False)
        expected = _brute_passing_bablok(x[sub], y[sub])
        assert _flat(passing_bablok(x[sub], y[sub])) == pytest.approx(expected, rel=1e-9, abs=1e-12)

        slopes = PairwiseSlopes(x, y)
        total = slopes.finite + slopes.vertical
        ranks = [total // 4, total // 2, total // 2 + 1, 3 * total // 4]
        values = np.array(slopes.order_statistics(ranks))
        less = np.zeros(len(ranks), dtype=np.int64)
        at_most = np.zeros(len(ranks), dtype=np.int64)
        for start in range(0, n - 1, 500):
            rows = np.arange(start, min(start + 500, n - 1))
            dx = x[None, start + 1 :] - x[rows, None]
            dy = y[None, start + 1 :] - y[rows, None]
            upper = np.arange(start + 1, n)[None, :] > rows[:, None]
            defined = upper & ((dx != 0) | (dy != 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (dy / dx)[defined]  # ±inf where dx = 0 ...
            s[dx[defined] == 0] = np.inf  # ... and always +inf for equal x
            for k, value in enumerate(values):
                less[k] += np.count_nonzero(s < value)
                at_most[k] += np.count_nonzero(s <= value)
        assert np.all(less < ranks) and np.all(np.array(ranks) <= at_most), kind


# -- Passing–Bablok edge cases -----------------------------------------------------------------


def test_passing_bablok_is_undefined_for_degenerate_data() -> None:
    with pytest.raises(StatisticsError, match="all reference values are equal"):
        passing_bablok([5, 5, 5, 5, 5, 5], [1, 2, 3, 4, 5, 6])
    with pytest.raises(StatisticsError, match="too few pairs"):
        passing_bablok([1, 2, 3], [1.1, 2.0, 3.2])
    with pytest.raises(StatisticsError, match="vertical"):
        passing_bablok([1, 1, 1, 1, 1, 2], [1, 2, 3, 4, 5, 6])
    result = compare_methods([1, 2, 3, 4, 5, 6], [5, 5, 5, 5, 5, 5], margin=3)
    assert result.passing_bablok is None
    assert result.as_dict()["passing_bablok"] is None


def test_identical_methods_give_slope_one_and_intercept_zero() -> None:
    values = [1.5, 2.0, 3.25, 4.0, 7.5, 8.0, 9.75]
    pb = passing_bablok(values, values)
    assert (pb.slope, pb.slope_ci, pb.intercept, pb.intercept_ci) == (1.0, (1.0, 1.0), 0, (0, 0))


def test_passing_bablok_does_not_depend_on_the_order_of_the_pairs() -> None:
    rng = np.random.default_rng(9)
    x, y = _random_data("integers", 200, rng)
    perm = rng.permutation(200)
    assert passing_bablok(x, y) == passing_bablok(x[perm], y[perm])


def test_huge_and_tiny_values_are_rescaled_exactly() -> None:
    x, y, *_ = MCR_CASES["TD15"]
    base = passing_bablok(x, y)
    for power in (700, -700):
        scale = 2.0**power
        scaled = passing_bablok(np.multiply(x, scale), np.multiply(y, scale))
        assert (scaled.slope, scaled.slope_ci) == (base.slope, base.slope_ci)
        assert scaled.intercept == base.intercept * scale


# -- inputs and output shape -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "reference", "margin", "message"),
    [
        ([1, 2], [1, 2], 1.0, "at least 3 pairs"),
        ([1, 2, 3], [1, 2, 3, 4], 1.0, "same number of values"),
        ([1, 2, float("nan")], [1, 2, 3], 1.0, "position 2 is not a finite number"),
        ([1, 2, 3], [1, float("inf"), 3], 1.0, "reference value at position 1"),
        ([1, 2, "x"], [1, 2, 3], 1.0, "position 2 is not a number"),
        ([1, "2.5", 3], [1, 2, 3], 1.0, "position 1 is not a number"),
        ([1, 2, 3], [True, 2, 3], 1.0, "reference value at position 0 is not a number"),
        ([[1, 2, 3]], [1, 2, 3], 1.0, "flat list"),
        ([1, 2, 3], [1, 2, 3], 0.0, "margin must be a positive"),
        ([1, 2, 3], [1, 2, 3], -1.0, "margin must be a positive"),
        ([1, 2, 3], [1, 2, 3], float("inf"), "margin must be a positive"),
        ([1, 2, 3], [1, 2, 3], True, "margin must be a positive"),
    ],
)
def test_inputs_that_cannot_be_analysed(candidate, reference, margin, message) -> None:
    with pytest.raises(StatisticsError, match=message):
        compare_methods(candidate, reference, margin)


def test_alpha_must_be_a_probability() -> None:
    with pytest.raises(StatisticsError, match="alpha"):
        compare_methods([1, 2, 3], [1, 2, 4], 1.0, alpha=1.5)
    assert issubclass(StatisticsError, ValueError)


def test_as_dict_is_the_contract_statistics_block() -> None:
    x, y, *_ = MCR_CASES["TD41"]
    result = compare_methods(candidate=y, reference=x, margin=5.0)
    block = result.as_dict()
    assert list(block) == [
        "n", "bias", "bias_ci", "sd", "loa", "loa_ci", "tost", "passing_bablok",
        "proportional_bias", "constant_bias", "notes",
    ]  # fmt: skip
    assert list(block["tost"]) == ["margin", "p_value", "equivalent"]
    assert list(block["passing_bablok"]) == [
        "slope", "slope_ci", "intercept", "intercept_ci", "linearity",
    ]  # fmt: skip
    assert list(block["passing_bablok"]["linearity"]) == ["cusum_max", "critical", "linear"]
    assert list(block["loa_ci"]) == ["lower", "upper"]
    assert all(len(block["loa_ci"][k]) == 2 for k in ("lower", "upper"))
    assert isinstance(block["proportional_bias"], bool)
    assert isinstance(block["constant_bias"], bool)
    assert block["notes"] == []  # 50 pairs: not few, and the regression is defined
    assert block["n"] == 50 and isinstance(block["n"], int)
    assert isinstance(block["tost"]["equivalent"], bool)
    assert all(len(block[k]) == 2 for k in ("bias_ci", "loa"))
    assert block["passing_bablok"]["slope"] == pytest.approx(0.996354386947289, rel=1e-12)
    assert json.loads(json.dumps(block, allow_nan=False)) == block
