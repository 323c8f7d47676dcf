"""Paired gains over seeds with Student-t intervals: how the roadmap and the sweeps tell effects from noise.

The suite's design is paired: a seed fixes the initialisation of the head, the order of the training
data and every augmentation draw, whatever the step (:mod:`rtmposelib.train.loop`,
:mod:`rtmposelib.data.augment`). So the effect of a change is measured seed by seed, as the difference
``d_s = AP(after, seed s) - AP(before, seed s)``, and reported as the mean of ``d`` over the n seeds
with a t-interval::

    mean(d) +- t_{n-1, (1 + confidence) / 2} * sd(d) / sqrt(n)

A change is *resolved* when that interval excludes 0. With one seed there is no interval (NaN, not
resolved). AP in percent points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedGain:
    """Mean paired difference over ``n`` seeds and its t-interval ``low`` .. ``high``."""

    n: int
    mean: float
    sd: float
    half_width: float
    low: float
    high: float

    @property
    def resolved(self) -> bool:
        """The interval excludes 0 (needs n >= 2)."""
        return bool(self.n >= 2 and (self.low > 0 or self.high < 0))


def paired_gain(after, before, *, confidence: float = CONFIDENCE) -> PairedGain:
    """The paired gain of ``after`` over ``before`` (same length, same seed order; NaN pairs dropped)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    a, b = np.asarray(after, np.float64), np.asarray(before, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired values must be two 1-d arrays of one length, got shapes {a.shape} and {b.shape}")
    d = (a - b)[np.isfinite(a) & np.isfinite(b)]
    n = len(d)
    if n == 0:
        return PairedGain(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(d.mean())
    if n == 1:
        return PairedGain(1, mean, math.nan, math.nan, math.nan, math.nan)
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    return PairedGain(n, mean, sd, half, mean - half, mean + half)


def paired_columns(ap: pd.DataFrame, pairs: list[tuple[str, str | None]], *,
                   confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per ``(point, reference)`` pair: the paired gain of column ``point`` over column
    ``reference`` of ``ap`` (index = seed, one column per point; a reference of None gives NaN).

    Columns: ``point``, ``n_pairs``, ``gain``, ``gain_sd``, ``half_width``, ``ci_low``, ``ci_high``,
    ``resolved``.
    """
    rows = []
    for point, ref in pairs:
        g = paired_gain(ap[point], ap[ref], confidence=confidence) if ref is not None else paired_gain([], [])
        rows.append({"point": point, "n_pairs": g.n, "gain": g.mean, "gain_sd": g.sd, "half_width": g.half_width,
                     "ci_low": g.low, "ci_high": g.high, "resolved": g.resolved})
    return pd.DataFrame(rows, columns=["point", "n_pairs", "gain", "gain_sd", "half_width", "ci_low", "ci_high",
                                       "resolved"])


def t_half_width(sd: float, n: int, *, confidence: float = CONFIDENCE) -> float:
    """The half-width of a t-interval on a mean of ``n`` paired differences of standard deviation ``sd``
    (for sizing: how many seeds a wanted half-width needs)."""
    if n < 2:
        raise ValueError(f"a t-interval needs n >= 2, got {n}")
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
