"""Checks on what the statistics are given, and the one error they raise."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Array = npt.NDArray[Any]

# The smallest positive normal double: below it a value keeps fewer than 53 bits.
TINY = float(np.finfo(np.float64).tiny)


class StatisticsError(ValueError):
    """The input cannot be analysed; the message says why."""


def as_values(name: str, values: Sequence[float] | Floats) -> Floats:
    """A 1-d float array of finite numbers, or StatisticsError naming the first bad value."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 1:
        array: Floats = values  # already an array of doubles (the functions pass these around)
    elif isinstance(values, list) and all(type(v) is float or type(v) is int for v in values):
        array = np.array(values, dtype=np.float64)  # the common case: plain JSON numbers
    else:
        array = _checked_values(name, values)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise StatisticsError(f"{name} value at position {int(bad[0])} is not a finite number")
    return array


def _checked_values(name: str, values: Sequence[float] | Floats) -> Floats:
    items = np.asarray(values, dtype=object)
    if items.ndim != 1:
        raise StatisticsError(f"{name} must be a flat list of numbers")
    numeric = [isinstance(v, numbers.Real) and not isinstance(v, bool | str) for v in items]
    if not all(numeric):
        raise StatisticsError(f"{name} value at position {numeric.index(False)} is not a number")
    return items.astype(np.float64)


def as_pairs(
    candidate: Sequence[float] | Floats, reference: Sequence[float] | Floats
) -> tuple[Floats, Floats]:
    """(y, x): candidate and reference values of equal length, at least 3 of them."""
    y = as_values("candidate", candidate)
    x = as_values("reference", reference)
    if y.size != x.size:
        raise StatisticsError(
            f"candidate and reference must have the same number of values "
            f"(got {y.size} and {x.size})"
        )
    if y.size < 3:
        raise StatisticsError(f"at least 3 pairs are needed (got {y.size})")
    return y, x


def checked_alpha(alpha: float) -> float:
    """α as a float strictly between 0 and 1."""
    if isinstance(alpha, bool) or not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise StatisticsError(f"alpha must be between 0 and 1 (got {alpha!r})")
    return float(alpha)


def checked_margin(margin: float) -> float:
    """The equivalence margin as a positive finite float."""
    numeric = isinstance(margin, int | float) and not isinstance(margin, bool)
    if not (numeric and math.isfinite(margin) and margin > 0):
        raise StatisticsError(f"margin must be a positive finite number (got {margin!r})")
    return float(margin)


def mean_and_sd(d: Floats) -> tuple[float, float]:
    """Mean and sample SD (n − 1); exactly (d₀, 0) when every value is the same."""
    if np.all(d == d[0]):  # exactly zero spread: avoid rounding noise in mean and SD
        return float(d[0]), 0.0
    return float(np.mean(d)), float(np.std(d, ddof=1))
