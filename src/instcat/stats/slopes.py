"""Order statistics of all pairwise slopes, without listing them.

Passing–Bablok regression needs a few order statistics (a shifted median and two
confidence limits) of the n(n−1)/2 slopes S_ij = (y_j − y_i)/(x_j − x_i).  For
10,000 pairs that is 5·10⁷ slopes: too many to hold or sort.  `PairwiseSlopes`
answers "which slope has rank r" in O(n log n) time per probe and O(n) memory:

* Counting.  With the points sorted by x, a pair p < q with x_p < x_q has a slope
  at most dy₀/dx₀ (dx₀ > 0) exactly when u_q ≤ u_p for u = y·dx₀ − x·dy₀.  So the
  number of slopes ≤ t is the number of pairs whose x order and u order disagree,
  an inversion count, done here bit by bit over the u ranks (a radix form of the
  merge count) with numpy arrays only.  Equal x values (vertical pairs) and equal
  points are kept out of the count by how ties in u are broken.
* Selecting.  Thresholds come from a random sample of slopes, as in the
  randomised slope selection of Matoušek (1991, Inf. Process. Lett. 39:183–187)
  and Dillencourt, Mount & Netanyahu (1992, Int. J. Comput. Geom. Appl. 2:1–27):
  bisection over the sorted sample narrows the wanted rank to a gap that holds
  only a few thousand slopes (or hits a tied slope value exactly).
* Reading off.  The slopes inside the gap are the pairs whose order differs
  between the two thresholds' u orders; they are listed from the same bitwise
  inversion pass, sorted, and the wanted ranks read off.

Every slope returned is computed as (y_q − y_p)/(x_q − x_p) from the two points,
so the values are the ones a brute-force listing of all slopes would give.
Thresholds are compared in floating point; slopes that differ only by rounding
may be ordered either way, which cannot change a returned value beyond rounding.
Whether a slope is below, at or above −1 (which Passing–Bablok needs exactly) is
decided in exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from instcat.stats.inversions import inversions, pairs_in_runs, sample_inversions

_SAMPLE_SEED = 1983  # the year of Passing & Bablok; fixed so running times repeat
_MAX_PROBES = 400  # guards; a typical selection needs about ten probes in one round
_MAX_ROUNDS = 20


class PairwiseSlopes:
    """The multiset of slopes over all pairs of points (x_i, y_i).

    Pairs of equal points have no slope and are ignored; pairs with equal x and
    different y have slope +∞ (the points are ordered by x, then y, so the
    vertical direction always counts as upward).  Attributes: `n`, `finite`
    (pairs with different x), `vertical` (+∞ slopes), `ignored` (equal points),
    `below_minus_one` and `minus_one` (finite slopes < −1 and exactly −1).
    """

    def __init__(
        self,
        x: Sequence[float] | np.ndarray,
        y: Sequence[float] | np.ndarray,
        *,
        direct_limit: int = 100_000,
        enumerate_limit: int = 20_000,
        sample_size: int | None = None,
    ) -> None:
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("x and y must have the same length")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("x and y must be finite")
        n = x.size
        peak = float(max(np.max(np.abs(x)), np.max(np.abs(y)))) if n else 0.0
        if peak > 0 and not 2.0**-500 < peak < 2.0**500:
            # A power-of-two scale leaves every slope bit-identical and keeps the
            # products in the counting step away from overflow and underflow.
            shift = -int(np.frexp(peak)[1])
            x, y = np.ldexp(x, shift), np.ldexp(y, shift)
        order = np.lexsort((-y, x))  # x ascending, y descending within equal x
        self._x = x = x[order]
        self._y = y = y[order]
        self.n = n
        self._direct_limit = direct_limit
        self._enumerate_limit = max(1, enumerate_limit)
        self._hard_limit = 50 * self._enumerate_limit
        self._rng = np.random.default_rng(_SAMPLE_SEED)
        self._sample_size = sample_size if sample_size is not None else max(2_000, 4 * n)

        new_x = np.ones(n, dtype=bool)
        new_x[1:] = x[1:] != x[:-1]
        self._new_x = new_x
        self._gid = np.cumsum(new_x) - 1
        starts = np.flatnonzero(new_x)
        sizes = np.diff(np.append(starts, n))
        self._group_end = np.repeat(starts + sizes, sizes)
        self._within = pairs_in_runs(new_x)  # pairs sharing an x value
        new_point = new_x.copy()
        new_point[1:] |= y[1:] != y[:-1]
        self.ignored = pairs_in_runs(new_point)
        self.vertical = self._within - self.ignored
        self.finite = n * (n - 1) // 2 - self._within
        # Tie-breaking orders for equal u (see _ranks).
        self._desc = np.arange(n - 1, -1, -1)
        self._group_desc = np.repeat(starts, sizes) + self._group_end - 1 - np.arange(n)

        self.below_minus_one, self.minus_one = self._count_minus_one()
        self._sample: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cache: dict[tuple[float, float], tuple[int, int]] = {}

    # -- counting ----------------------------------------------------------------

    def _ranks(self, keys: tuple[np.ndarray, ...], strict: bool) -> np.ndarray:
        """Ranks of u (given as sort keys, most significant first) over the x-sorted points.

        A pair p < q counts as "slope ≤ t" when rank[p] > rank[q].  Equal u go to
        the later point first, so within an x group every pair counts (and is
        subtracted as a constant); for `strict`, equal u across different x do
        not count, which turns "≤ t" into "< t".
        """
        pre = self._group_desc if strict else self._desc
        if len(keys) == 1:
            order = pre[np.argsort(keys[0][pre], kind="stable")]
        else:
            order = pre[np.lexsort(tuple(k[pre] for k in reversed(keys)))]
        ranks = np.empty(self.n, dtype=np.intp)
        ranks[order] = np.arange(self.n)
        return ranks

    def _count_keys(self, keys: tuple[np.ndarray, ...]) -> tuple[int, int]:
        """(#finite slopes ≤ t, #finite slopes < t) for the threshold behind `keys`."""
        ranks = self._ranks(keys, strict=False)
        at_most = inversions(ranks)[0] - self._within
        # "< t" leaves out the pairs with equal u across different x: all pairs
        # with equal u, less those within an x group (adjacent there, as u is
        # monotone in y for a fixed x).
        order = np.empty(self.n, dtype=np.intp)
        order[ranks] = np.arange(self.n)
        equal_sorted = np.ones(self.n - 1, dtype=bool)
        equal_along = np.ones(self.n - 1, dtype=bool)
        for key in keys:
            in_order = key[order]
            equal_sorted &= in_order[1:] == in_order[:-1]
            equal_along &= key[1:] == key[:-1]
        run_sorted = np.concatenate(([True], ~equal_sorted))
        run_along = np.concatenate(([True], ~equal_along | self._new_x[1:]))
        equal_across_x = pairs_in_runs(run_sorted) - pairs_in_runs(run_along)
        return at_most, at_most - equal_across_x

    def _count_minus_one(self) -> tuple[int, int]:
        """(#slopes < −1, #slopes = −1), comparing x + y exactly (TwoSum)."""
        if self.finite == 0:
            return 0, 0
        s = self._y + self._x
        bb = s - self._y
        err = (self._y - (s - bb)) + (self._x - bb)
        at_most, below = self._count_keys((s, err))
        return below, at_most - below

    def _u(self, dy0: float, dx0: float) -> np.ndarray:
        return self._y * dx0 - self._x * dy0

    def _count(self, dy0: float, dx0: float) -> tuple[int, int]:
        key = (dy0, dx0)
        if key not in self._cache:
            self._cache[key] = self._count_keys((self._u(dy0, dx0),))
        return self._cache[key]

    # -- listing -------------------------------------------------------------------

    def _cross_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All pairs p < q with x_p < x_q (only used when there are few)."""
        partners = self.n - self._group_end
        p = np.repeat(np.arange(self.n), partners)
        first = np.cumsum(partners) - partners
        q = self._group_end[p] + (np.arange(p.size) - np.repeat(first, partners))
        return p, q

    def _slopes(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        slopes: np.ndarray = (self._y[q] - self._y[p]) / (self._x[q] - self._x[p])
        return slopes

    def _bracket_order(
        self, lo: tuple[float, float], hi: tuple[float, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points in "≤ lo" rank order, and their "< hi" ranks in that order.

        The inverted pairs of the second are the pairs counted at one threshold
        and not at the other: those strictly between (plus, through rounding
        only, any counted at lo but not at hi).
        """
        r_lo = self._ranks((self._u(*lo),), strict=False)
        r_hi = self._ranks((self._u(*hi),), strict=True)
        at_lo = np.empty(self.n, dtype=np.intp)
        at_lo[r_lo] = np.arange(self.n)
        return r_hi[at_lo], at_lo

    def _between(self, lo: tuple[float, float], hi: tuple[float, float]) -> tuple[int, np.ndarray]:
        """Slopes strictly between two thresholds: (#slopes below them, sorted slopes).

        Pairs counted at lo but not at hi (possible only through rounding) are
        taken out of the count below and put into the listing, so ranks stay exact.
        """
        seq, at_lo = self._bracket_order(lo, hi)
        _, first, second = inversions(seq, collect=True)
        a, b = at_lo[first], at_lo[second]
        cross = self._gid[a] != self._gid[b]
        a, b = a[cross], b[cross]
        below = self._count(*lo)[0] - int(np.count_nonzero(a > b))
        return below, np.sort(self._slopes(np.minimum(a, b), np.maximum(a, b)))

    # -- selection -----------------------------------------------------------------

    def order_statistics(self, ranks: Sequence[int]) -> list[float]:
        """Values of the slopes with the given 1-based ranks (ascending, +∞ last).

        Ranks run over the `finite + vertical` defined slopes; ranks beyond the
        finite ones give +∞.
        """
        total = self.finite + self.vertical
        wanted = sorted({int(r) for r in ranks})
        if any(r < 1 or r > total for r in wanted):
            raise IndexError("slope rank out of range")
        found: dict[int, float] = {r: float("inf") for r in wanted if r > self.finite}
        finite_ranks = [r for r in wanted if r <= self.finite]
        if finite_ranks and self.finite <= self._direct_limit:
            values = np.sort(self._slopes(*self._cross_pairs()))
            found.update({r: float(values[r - 1]) for r in finite_ranks})
        else:
            groups: list[list[int]] = []
            for r in finite_ranks:
                if groups and r - groups[-1][-1] <= 1:
                    groups[-1].append(r)
                else:
                    groups.append([r])
            for group in groups:
                found.update(self._select(group))
        return [found[int(r)] for r in ranks]

    def _draw_sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A uniform random sample of the finite slopes, sorted: (values, dy, dx)."""
        if self._sample is None:
            partners = self.n - self._group_end
            first = np.cumsum(partners) - partners
            k = self._rng.integers(0, self.finite, size=min(self._sample_size, self.finite))
            p = np.searchsorted(first, k, side="right") - 1
            self._sample = self._sorted_sample(p, self._group_end[p] + (k - first[p]))
        return self._sample

    def _sample_between(
        self, lo: tuple[float, float], hi: tuple[float, float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A uniform random sample of the slopes strictly between two thresholds."""
        seq, at_lo = self._bracket_order(lo, hi)
        first, second = sample_inversions(seq, self._sample_size, self._rng)
        a, b = at_lo[first], at_lo[second]
        return self._sorted_sample(np.minimum(a, b), np.maximum(a, b))

    def _sorted_sample(
        self, p: np.ndarray, q: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dy, dx = self._y[q] - self._y[p], self._x[q] - self._x[p]
        values = dy / dx
        order = np.argsort(values, kind="stable")
        return values[order], dy[order], dx[order]

    def _select(self, group: list[int]) -> dict[int, float]:
        """Values for adjacent finite ranks `group` (one rank, or two in a row).

        Keeps a bracket of two thresholds (dy₀, dx₀), each a sampled pair's slope
        (±∞ as (∓1, 0)), with the count of slopes ≤ the lower one and < the upper
        one, and bisects over the sorted sample until few slopes lie between.
        Should the sample run out first (two sampled values with very many slopes
        between — unlikely), slopes are sampled again, uniformly from those
        strictly inside the bracket.
        """
        first, last = group[0], group[-1]
        lo, lo_le = (-1.0, 0.0), 0
        hi, hi_lt = (1.0, 0.0), self.finite
        values, dys, dxs = self._draw_sample()
        quantile = (first - 0.5) / self.finite
        centre = quantile * values.size
        spread = 3.0 * np.sqrt(values.size * quantile * (1.0 - quantile)) + 2.0
        guesses = [int(np.floor(centre - spread)), int(np.ceil(centre + spread))]
        probes = 0
        for _ in range(_MAX_ROUNDS):
            lo_i, hi_i = -1, values.size
            while hi_lt - lo_le > self._enumerate_limit and hi_i - lo_i > 1:
                if probes >= _MAX_PROBES:
                    break
                probes += 1
                while guesses and not lo_i < guesses[0] < hi_i:
                    guesses.pop(0)
                i = guesses.pop(0) if guesses else (lo_i + hi_i) // 2
                threshold = (float(dys[i]), float(dxs[i]))
                le, lt = self._count(*threshold)
                if lt < first and last <= le:  # the ranks fall on this (tied) value
                    return {r: self._value(threshold) for r in group}
                if le < first:
                    lo_i = i
                    if le >= lo_le:
                        lo, lo_le = threshold, le
                elif lt >= last:
                    hi_i = i
                    if lt <= hi_lt:
                        hi, hi_lt = threshold, lt
                else:  # a tied value holds one of the two ranks but not the other
                    return {r: self._select([r])[r] for r in group}
            if hi_lt - lo_le <= self._hard_limit or probes >= _MAX_PROBES:
                break
            values, dys, dxs = self._sample_between(lo, hi)
            guesses = []
        if hi_lt - lo_le > self._hard_limit:
            # Reached only if probing stops narrowing the bracket, i.e. when the
            # slopes left cannot be told apart in floating point from its ends.
            return {r: self._value(lo if lo[1] != 0 else hi) for r in group}
        below, between = self._between(lo, hi)
        return {r: float(between[min(max(r - below - 1, 0), between.size - 1)]) for r in group}

    @staticmethod
    def _value(threshold: tuple[float, float]) -> float:
        dy0, dx0 = threshold
        return float(dy0 / dx0) if dx0 != 0 else float(np.copysign(np.inf, dy0))
