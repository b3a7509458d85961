"""Inverted pairs of a permutation, counted, listed or sampled bit level by bit level.

The counting step of `PairwiseSlopes` (see slopes.py): the number of slopes at most a
threshold is the number of pairs whose x order and u order disagree, i.e. the inversions
of a permutation. These helpers do that with whole-array numpy operations only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def pairs_in_runs(starts_run: np.ndarray) -> int:
    """Pairs within runs: Σ C(len, 2) over runs, given a flag set where a run starts."""
    starts = np.flatnonzero(starts_run)
    lengths = np.diff(np.append(starts, starts_run.size))
    return int((lengths * (lengths - 1) // 2).sum())


def inversion_levels(
    seq: np.ndarray,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The inverted pairs of a permutation `seq` of 0..n−1, one bit level at a time.

    Bits of the values are examined from the highest: at bit b, values sharing
    the bits above b form a group (kept in position order), and each pair
    k < l with seq[k] > seq[l] is met exactly once, at the highest bit where the
    two values differ — as a 1 before a 0 in the same group.  Each level is one
    stable (radix) sort of small integers plus a few cumulative sums, and yields
    (order, bit, ones_base, ones_before): positions in group order, their bit,
    the number of ones before each one's group, and the ones before it in its
    group.  A 0 at index i is inverted with the ones_before[i] ones that follow
    the first ones_base[i] ones of the level.
    """
    n = seq.size
    seq = seq.astype(np.uint16 if n <= 1 << 16 else np.uint32)
    for b in range(max(1, int(n - 1).bit_length()) - 1, -1, -1):
        high = seq >> (b + 1)
        order = np.argsort(high, kind="stable")
        vals = seq[order]
        bit = ((vals >> b) & 1).astype(np.int64)
        sizes = np.bincount(high, minlength=1)
        start = (np.cumsum(sizes) - sizes)[vals >> (b + 1)]  # first index of each group
        ones_excl = np.cumsum(bit) - bit
        yield order, bit, ones_excl[start], ones_excl - ones_excl[start]


def inversions(seq: np.ndarray, collect: bool = False) -> tuple[int, np.ndarray, np.ndarray]:
    """Count (and optionally list, as (earlier, later) positions) the inverted pairs."""
    total = 0
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    for order, bit, ones_base, ones_before in inversion_levels(seq):
        total += int(ones_before.sum() - np.dot(bit, ones_before))
        if collect:
            later = np.flatnonzero((bit == 0) & (ones_before > 0))
            reps = ones_before[later]
            if reps.size:
                offsets = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
                ones = order[np.flatnonzero(bit)]
                firsts.append(ones[np.repeat(ones_base[later], reps) + offsets])
                seconds.append(np.repeat(order[later], reps))
    if collect and firsts:
        return total, np.concatenate(firsts), np.concatenate(seconds)
    empty = np.empty(0, dtype=np.intp)
    return total, empty, empty


def sample_inversions(
    seq: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`size` inverted pairs of `seq`, drawn uniformly with replacement (earlier, later)."""
    weights, orders, bases, ones = [], [], [], []
    found = 0
    for order, bit, ones_base, ones_before in inversion_levels(seq):
        weights.append(ones_before * (1 - bit))  # pairs in which each 0 is the later one
        orders.append(order)
        bases.append(ones_base + found)
        ones.append(order[np.flatnonzero(bit)])
        found += ones[-1].size
    weight = np.concatenate(weights)
    cumulative = np.cumsum(weight)
    if cumulative.size == 0 or cumulative[-1] == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    draws = rng.integers(0, cumulative[-1], size=size)
    at = np.searchsorted(cumulative, draws, side="right")  # level and index, flattened
    nth = draws - (cumulative[at] - weight[at])
    return np.concatenate(ones)[np.concatenate(bases)[at] + nth], np.concatenate(orders)[at]
