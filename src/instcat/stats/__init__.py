"""Method-comparison statistics for split-sample trials: pure numerics, no web or database.

Conventions (CONTRACT.md, "Trial" and "Trial statistics, to CLSI EP09 level"):
differences are candidate − reference; Bland–Altman bias, limits of agreement and their
intervals and the paired TOST are in `agreement`; Passing–Bablok regression of candidate
(y) on reference (x) in `passing_bablok` (its pairwise slopes in `slopes`); the CUSUM
linearity test in `linearity`; `compare_methods` puts them together, refusing input
whose statistics would overflow or underflow.
"""

from instcat.stats.agreement import BlandAltman, Tost, bland_altman, paired_tost
from instcat.stats.inputs import StatisticsError
from instcat.stats.linearity import Linearity, cusum_linearity
from instcat.stats.method_comparison import MethodComparison, compare_methods
from instcat.stats.passing_bablok import PassingBablok, passing_bablok
from instcat.stats.slopes import PairwiseSlopes

__all__ = [
    "BlandAltman",
    "Linearity",
    "MethodComparison",
    "PairwiseSlopes",
    "PassingBablok",
    "StatisticsError",
    "Tost",
    "bland_altman",
    "compare_methods",
    "cusum_linearity",
    "paired_tost",
    "passing_bablok",
]
