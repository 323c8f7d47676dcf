"""The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012), vectorised over keypoint arrays.

RTMPose paper Section 3.5 smooths keypoints over video frames with a OneEuro filter; the pipeline the
paper refers to is MMDeploy's PoseTracker (docs/official-behaviour.md "Deployment"). This file implements the published
formulation, one independent filter per scalar coordinate:

    alpha(fc, T) = 1 / (1 + tau / T),  tau = 1 / (2 pi fc)          (T = time since the last sample)
    dx_i   = (x_i - xhat_{i-1}) / T                                    (raw speed)
    dxhat_i = alpha(d_cutoff, T) dx_i + (1 - alpha(d_cutoff, T)) dxhat_{i-1}
    fc_i   = min_cutoff + beta |dxhat_i|
    xhat_i = alpha(fc_i, T) x_i + (1 - alpha(fc_i, T)) xhat_{i-1}

with xhat_0 = x_0 and dxhat_0 = 0. Time is in frames (T = 1) unless ``fps`` or timestamps are given,
then in seconds and the cutoffs are in Hz.

MMDeploy's per-step variant (smoothing_filter.cpp) is this recurrence with T = 1 frame, where the
speed magnitude |dxhat| is the norm of the 2-D point velocity rather than of each coordinate
(``vector_speed=True`` here) and the defaults are (beta, fc_min, fc_d) = (0.007, 1, 1), in pixels and
frames. The MMPose 0.x filter had min_cutoff 1.7, beta 0.3, d_cutoff 30 as class defaults.
"""
from __future__ import annotations

import math

import numpy as np

# (min_cutoff, beta, d_cutoff) defaults of the two official implementations (docs/official-behaviour.md "Deployment").
MMDEPLOY_DEFAULTS: dict[str, float] = {"min_cutoff": 1.0, "beta": 0.007, "d_cutoff": 1.0}
MMPOSE_LEGACY_DEFAULTS: dict[str, float] = {"min_cutoff": 1.7, "beta": 0.3, "d_cutoff": 30.0}


def smoothing_factor(cutoff: np.ndarray | float, period: float) -> np.ndarray | float:
    """alpha = 1 / (1 + tau / T), tau = 1 / (2 pi cutoff); equals r / (r + 1) with r = 2 pi cutoff T."""
    r = 2.0 * math.pi * np.asarray(cutoff, dtype=np.float64) * period
    return r / (r + 1.0)


class OneEuroFilter:
    """One-Euro filter over an array of any fixed shape, e.g. keypoints (K, 2) in image pixels.

    Args:
        min_cutoff: minimum cutoff frequency (per frame, or Hz when ``fps``/timestamps are used).
        beta: speed coefficient; larger = less lag on fast motion, more jitter.
        d_cutoff: cutoff frequency of the speed estimate.
        fps: frames per second of the stream; None = time measured in frames (T = 1).
        vector_speed: use the norm of the velocity over the last axis (MMDeploy) instead of each
            coordinate's own |speed| (the published filter).
    """

    def __init__(self, *, min_cutoff: float = 1.0, beta: float = 0.007, d_cutoff: float = 1.0,
                 fps: float | None = None, vector_speed: bool = False) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0:
            raise ValueError(f"cutoffs must be > 0, got min_cutoff={min_cutoff}, d_cutoff={d_cutoff}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be > 0 or None, got {fps}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.fps = fps
        self.vector_speed = vector_speed
        self.reset()

    def reset(self) -> None:
        """Forget the state; the next sample passes through unchanged."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @property
    def initialised(self) -> bool:
        return self._x is not None

    def __call__(self, x: np.ndarray, t: float | None = None) -> np.ndarray:
        """Filter one sample.

        Args:
            x: the new measurement, any shape (same on every call), e.g. (K, 2) pixels.
            t: timestamp in seconds. When given, T = t - t_prev (frame-rate aware for irregular
                streams); otherwise T = 1 / fps, or 1 frame when fps is None.
        Returns:
            the filtered sample, float64, shape of ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        if x.shape != self._x.shape:
            raise ValueError(f"sample shape {x.shape} differs from the filter's shape {self._x.shape}")
        period = self._period(t)
        dx = (x - self._x) / period                                           # raw speed
        self._dx = self._dx + smoothing_factor(self.d_cutoff, period) * (dx - self._dx)
        if self.vector_speed and self._dx.ndim >= 1:
            speed = np.linalg.norm(self._dx, axis=-1, keepdims=True)           # (..., 1)
        else:
            speed = np.abs(self._dx)
        alpha = smoothing_factor(self.min_cutoff + self.beta * speed, period)  # broadcast to x
        self._x = self._x + alpha * (x - self._x)
        return self._x.copy()

    def _period(self, t: float | None) -> float:
        if (t is None) != (self._t is None):
            raise ValueError("give a timestamp on every call or on none (the first call decides)")
        if t is None:
            return 1.0 if self.fps is None else 1.0 / self.fps
        assert self._t is not None                 # t is given, so the previous call gave one too (checked above)
        period = float(t) - self._t
        if period <= 0:
            raise ValueError(f"timestamps must increase, got {t} after {self._t}")
        self._t = float(t)
        return period


def jitter(trajectory: np.ndarray) -> float:
    """Mean frame-to-frame acceleration magnitude ||x_{t+1} - 2 x_t + x_{t-1}|| (pixels / frame^2).

    Args:
        trajectory: (T, ..., 2) positions over T frames (e.g. (T, K, 2)); NaN entries are ignored.
    Returns:
        the mean over frames and points, or NaN when fewer than 3 frames are given.
    """
    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim < 2 or traj.shape[0] < 3:
        return float("nan")
    acc = traj[2:] - 2.0 * traj[1:-1] + traj[:-2]          # (T-2, ..., 2)
    mag = np.linalg.norm(acc, axis=-1)
    return float(np.nanmean(mag)) if np.isfinite(mag).any() else float("nan")
