"""SimCC labels: keypoints as two 1-D classification targets (paper §3.2, Eq. 5-6;
docs/official-behaviour.md "SimCC codec").

Matches MMPose ``SimCCLabel(smoothing_type='gaussian')`` as used by every RTMPose config:

* encode: the keypoint (crop pixels) is scaled by ``split_ratio`` and rounded with ``np.around``
  (half to even) to an integer bin ``mu``; the label is ``exp(-(i - mu)^2 / (2 sigma^2))`` over the
  bins of each axis, peak 1 (``normalize=False``) or divided by ``sigma * sqrt(2 pi)``.
  Invisible keypoints (visibility < 0.5) get an all-zero label and keep their visibility (0) as
  weight; a visible keypoint gets weight 0 only when its whole +-3 sigma window misses the bin range.
* decode: argmax of the raw logits per axis (no softmax, no sub-bin refinement), confidence = min of
  the two maxima (MMPose) or their mean (rtmlib); a confidence <= 0 sets the location to bin -1
  (so -1 / split_ratio crop pixels, as MMPose).
* flip test: :func:`flip_back` permutes the channels of the flipped outputs with ``flip_indices`` and
  reverses the x bins; the caller averages raw logits 0.5 / 0.5 with the plain outputs. There is no
  shift compensation (bin j <-> W-1-j is half a pixel off the pixel flip x <-> w-1-x), as official.
"""
from __future__ import annotations

import numpy as np

from rtmposelib.codecs.image_space import crop_to_image
from rtmposelib.codecs.inputs import checked_flip_indices, encoder_inputs

__all__ = ["SimCCCodec", "flip_back", "crop_to_image"]


class SimCCCodec:
    """Gaussian SimCC label codec.

    input_size: crop (w, h) pixels; sigma: per-axis (x, y) Gaussian sigma in bins, or one float shared
    by both axes; split_ratio: bins per crop pixel; normalize: divide labels by sigma*sqrt(2 pi);
    confidence: "min" | "mean" of the two axis maxima.
    """

    def __init__(self, *, input_size: tuple[int, int], sigma: float | tuple[float, float],
                 split_ratio: float = 2.0, normalize: bool = False, confidence: str = "min") -> None:
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f"input_size must be a positive (w, h), got {input_size}")
        sig = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (2,)).copy()
        if np.any(sig <= 0) or not np.all(np.isfinite(sig)):
            raise ValueError(f"sigma must be positive, got {sigma}")
        if split_ratio <= 0:
            raise ValueError(f"split_ratio must be positive, got {split_ratio}")
        if confidence not in ("min", "mean"):
            raise ValueError(f"confidence must be 'min' or 'mean', got {confidence!r}")
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.sigma = sig
        self.split_ratio = float(split_ratio)
        self.normalize = normalize
        self.confidence = confidence
        # number of bins per axis (W_bins, H_bins)
        self.bins = tuple(int(np.around(s * self.split_ratio)) for s in self.input_size)
        self._rows = tuple(self._label_rows(n, sig) for n, sig in zip(self.bins, self.sigma))

    def encode(self, keypoints: np.ndarray, visible: np.ndarray) -> dict[str, np.ndarray]:
        """keypoints: (N, K, 2) crop pixels; visible: (N, K) visibility (COCO v is clipped to 1).

        Returns target_x (N, K, W_bins) f32, target_y (N, K, H_bins) f32, weights (N, K) f32.
        """
        keypoints, visible = encoder_inputs(keypoints, visible)
        labelled = visible >= 0.5

        w_bins, h_bins = self.bins
        mu = np.around(np.where(np.isfinite(keypoints), keypoints, 0.0) * self.split_ratio)  # (N, K, 2)
        # the official 3-sigma rule: drop the point only if its whole window misses the bins
        left_top = mu - 3 * self.sigma
        right_bottom = mu + 3 * self.sigma + 1
        outside = ((left_top[..., 0] >= w_bins) | (left_top[..., 1] >= h_bins)
                   | (right_bottom[..., 0] < 0) | (right_bottom[..., 1] < 0))
        keep = labelled & ~outside                                                           # (N, K)

        weights = visible.copy()
        weights[labelled & outside] = 0.0
        target_x = self._gaussian(mu[..., 0], 0, keep)
        target_y = self._gaussian(mu[..., 1], 1, keep)
        return {"target_x": target_x, "target_y": target_y, "weights": weights.astype(np.float32)}

    def _gaussian(self, mu: np.ndarray, axis: int, keep: np.ndarray) -> np.ndarray:
        """(N, K) integer-valued centres on ``axis`` (0 = x, 1 = y) -> (N, K, bins) float32 labels, zero
        where not ``keep``: each label is one precomputed row (:meth:`_label_rows`), picked by its centre."""
        rows, reach = self._rows[axis]
        start = np.where(keep, reach - np.where(keep, mu, 0.0), len(rows) - 1)  # last row: all zero
        return rows[start.astype(np.int64)]

    def _label_rows(self, n_bins: int, sigma: float) -> tuple[np.ndarray, int]:
        """Every possible label of one axis as the rows of a read-only window view, and ``reach``.

        Centres are whole bins, so a label is a window of one Gaussian profile over the offsets
        -reach..reach (float64 as the per-bin formula ``exp(-(i - mu)^2 / (2 sigma^2))``, then float32):
        row ``reach - mu`` is the label of centre mu. Every kept centre (its 3-sigma window touches the
        bins) has ``|i - mu| <= reach``. A final block of zeros gives the all-zero row.
        """
        reach = n_bins + int(np.ceil(3 * sigma)) + 1
        offsets = np.arange(-reach, reach + 1, dtype=np.float64)
        profile = np.exp(-(offsets ** 2) / (2 * sigma ** 2))
        if self.normalize:
            profile /= sigma * np.sqrt(2 * np.pi)
        profile = np.concatenate([profile.astype(np.float32), np.zeros(n_bins, np.float32)])
        return np.lib.stride_tricks.sliding_window_view(profile, n_bins), reach

    def decode(self, simcc_x: np.ndarray, simcc_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """simcc_x: (N, K, W_bins) or (K, W_bins) raw logits; simcc_y: (N, K, H_bins) or (K, H_bins).

        Returns keypoints (N, K, 2) float32 crop pixels and scores (N, K) float32.
        """
        simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
        if simcc_x.ndim == 2:
            simcc_x, simcc_y = simcc_x[None], simcc_y[None]
        if simcc_x.ndim != 3 or simcc_y.ndim != 3 or simcc_x.shape[:2] != simcc_y.shape[:2]:
            raise ValueError(f"simcc_x / simcc_y must be (N, K, bins) with equal N, K; got "
                             f"{simcc_x.shape} and {simcc_y.shape}")
        if (simcc_x.shape[-1], simcc_y.shape[-1]) != self.bins:
            raise ValueError(f"expected {self.bins} (x, y) bins for input {self.input_size} and split "
                             f"{self.split_ratio}, got {(simcc_x.shape[-1], simcc_y.shape[-1])}")
        locs = np.stack([simcc_x.argmax(-1), simcc_y.argmax(-1)], axis=-1).astype(np.float32)
        max_x, max_y = simcc_x.max(-1), simcc_y.max(-1)
        if self.confidence == "min":
            scores = np.minimum(max_x, max_y)
        else:
            scores = (max_x + max_y) / 2
        locs[scores <= 0] = -1
        return locs / np.float32(self.split_ratio), scores.astype(np.float32)


def flip_back(simcc_x: np.ndarray, simcc_y: np.ndarray,
              flip_indices: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outputs of the horizontally flipped crop -> the frame of the plain crop (official flip test).

    simcc_x: (N, K, W_bins), simcc_y: (N, K, H_bins) of the flipped input. Channels are permuted with
    ``flip_indices`` (K,) and the x bins reversed; y is only permuted. Average the result 0.5 / 0.5 with
    the plain outputs before decoding.
    """
    simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
    flip_indices = checked_flip_indices(flip_indices, simcc_x.shape[-2])
    return simcc_x[..., flip_indices, ::-1].copy(), simcc_y[..., flip_indices, :].copy()
