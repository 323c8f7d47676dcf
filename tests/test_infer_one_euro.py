"""One-Euro filter: parity with the published recurrence and with MMDeploy's step; jitter vs lag."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rtmposelib.infer.one_euro import MMDEPLOY_DEFAULTS, OneEuroFilter, jitter


def casiez_reference(signal: list[float], times: list[float], min_cutoff: float, beta: float,
                     d_cutoff: float) -> list[float]:
    """Casiez et al. 2012, written out scalar by scalar from the paper's equations."""
    def alpha(cutoff: float, te: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    out = [signal[0]]
    dx_hat = 0.0
    for i in range(1, len(signal)):
        te = times[i] - times[i - 1]
        dx = (signal[i] - out[-1]) / te
        dx_hat = alpha(d_cutoff, te) * dx + (1.0 - alpha(d_cutoff, te)) * dx_hat
        cutoff = min_cutoff + beta * abs(dx_hat)
        a = alpha(cutoff, te)
        out.append(a * signal[i] + (1.0 - a) * out[-1])
    return out


def mmdeploy_reference(points: np.ndarray, beta: float, fc_min: float, fc_v: float) -> np.ndarray:
    """MMDeploy SmoothingFilter::step per point: v <- v + a_v (dx - v); x <- x + a(fc)(x1 - x)."""
    def factor(fc: float) -> float:
        r = 2.0 * math.pi * fc
        return r / (r + 1.0)

    x = points[0].copy()
    v = np.zeros_like(x)
    out = [x.copy()]
    for x1 in points[1:]:
        for k in range(len(x)):
            v[k] = v[k] + factor(fc_v) * ((x1[k] - x[k]) - v[k])
            fc = fc_min + beta * math.sqrt(float(v[k] @ v[k]))
            x[k] = x[k] + factor(fc) * (x1[k] - x[k])
        out.append(x.copy())
    return np.stack(out)


def test_equals_published_recurrence_on_known_signal():
    # A step, a ramp and a chirp at irregular timestamps (seconds).
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.uniform(0.01, 0.05, 200))
    signal = np.where(times < 1.0, 0.0, 5.0) + 3.0 * times + np.sin(2 * math.pi * times ** 2)
    ref = casiez_reference(list(signal), list(times), min_cutoff=1.2, beta=0.3, d_cutoff=1.5)
    filt = OneEuroFilter(min_cutoff=1.2, beta=0.3, d_cutoff=1.5)
    ours = [float(filt(np.array([s]), t=t)[0]) for s, t in zip(signal, times)]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert not np.allclose(ours, signal)  # the filter did something


def test_vectorised_over_keypoints_equals_independent_scalar_filters():
    rng = np.random.default_rng(2)
    track = rng.normal(size=(50, 17, 2)).cumsum(0)
    filt = OneEuroFilter(min_cutoff=0.5, beta=0.1, d_cutoff=1.0, fps=25.0)
    ours = np.stack([filt(x) for x in track])
    times = [i / 25.0 for i in range(50)]
    for k, d in [(0, 0), (7, 1), (16, 0)]:
        ref = casiez_reference(list(track[:, k, d]), times, 0.5, 0.1, 1.0)
        np.testing.assert_allclose(ours[:, k, d], ref, rtol=1e-12)


def test_fps_equals_regular_timestamps():
    rng = np.random.default_rng(3)
    track = rng.normal(size=(30, 4, 2)).cumsum(0)
    a, b = OneEuroFilter(fps=30.0), OneEuroFilter()
    out_a = np.stack([a(x) for x in track])
    out_b = np.stack([b(x, t=i / 30.0) for i, x in enumerate(track)])
    np.testing.assert_allclose(out_a, out_b, rtol=1e-9)


def test_vector_speed_equals_mmdeploy_step():
    rng = np.random.default_rng(4)
    track = 100 + rng.normal(scale=3.0, size=(40, 17, 2)).cumsum(0)
    filt = OneEuroFilter(**MMDEPLOY_DEFAULTS, vector_speed=True)
    ours = np.stack([filt(x) for x in track])
    ref = mmdeploy_reference(track, beta=0.007, fc_min=1.0, fc_v=1.0)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def _trajectory(seed: int = 0):
    """A walking figure (3 px/frame drift + limb swing) seen with 2 px detection noise, 30 fps."""
    t = np.arange(300)
    clean = np.stack([100 + 3 * t + 20 * np.sin(2 * np.pi * t / 60),
                      200 + 15 * np.cos(2 * np.pi * t / 45)], -1)[:, None, :].repeat(17, 1)
    noisy = clean + np.random.default_rng(seed).normal(0, 2.0, clean.shape)
    return clean, noisy


def _lag_frames(filtered: np.ndarray, clean: np.ndarray) -> float:
    """The delay s (frames, 0.25 steps) that best aligns the filtered output with the clean signal."""
    t = np.arange(len(clean))
    errors = []
    for s in np.arange(0.0, 10.0, 0.25):
        shifted = np.stack([np.interp(t - s, t, clean[:, 0, d]) for d in range(2)], -1)
        errors.append((np.mean((filtered[20:, 0] - shifted[20:]) ** 2), s))
    return min(errors)[1]


@pytest.mark.parametrize("params, min_factor, max_lag", [
    (dict(min_cutoff=1.0, beta=0.01, d_cutoff=1.0, fps=30.0), 3.0, 2.0),   # Hz at 30 fps
    (dict(MMDEPLOY_DEFAULTS, vector_speed=True), 1.2, 0.5),                  # per-frame, light
])
def test_reduces_jitter_with_bounded_lag(params, min_factor, max_lag):
    clean, noisy = _trajectory()
    filt = OneEuroFilter(**params)
    smoothed = np.stack([filt(x) for x in noisy])
    factor = jitter(noisy) / jitter(smoothed)
    assert factor >= min_factor, f"jitter reduced only {factor:.2f}x"
    assert _lag_frames(smoothed, clean) <= max_lag


def test_jitter_hand_computed():
    traj = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 4.0]])[:, None, :]
    # accelerations: (1, 0) and (1, 4) -> magnitudes 1 and sqrt(17)
    assert jitter(traj) == pytest.approx((1 + math.sqrt(17)) / 2)
    assert math.isnan(jitter(traj[:2]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="cutoffs"):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError, match="beta"):
        OneEuroFilter(beta=-1.0)
    filt = OneEuroFilter()
    filt(np.zeros((17, 2)))
    with pytest.raises(ValueError, match="shape"):
        filt(np.zeros((16, 2)))
    timed = OneEuroFilter()
    timed(np.zeros(2), t=1.0)
    with pytest.raises(ValueError, match="increase"):
        timed(np.zeros(2), t=1.0)
    with pytest.raises(ValueError, match="timestamp"):
        timed(np.zeros(2))
