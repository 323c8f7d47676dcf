"""Gaussian heatmap codecs: MSRA (SimpleBaseline, the paper's Table 1) and UDP (CSPNeXt pre-training, §3.1).

Both follow MMPose 1.x (``MSRAHeatmap(unbiased=False)`` and ``UDPHeatmap(heatmap_type='gaussian')``),
one heatmap stack per instance:

* MSRA: heatmap pixel = crop pixel / (input / heatmap); the Gaussian is centred on the integer pixel
  ``int(p + 0.5)`` inside a (6 sigma + 1) window; decode = argmax, then a quarter-pixel step towards the
  higher neighbour, then times (input / heatmap).
* UDP (unbiased data processing, Huang et al. 2020): heatmap pixel = crop pixel * (heatmap - 1) /
  (input - 1); the window is placed at ``int(p + 0.5)`` but the Gaussian is centred on the exact
  sub-pixel point; decode = argmax, then the DARK-UDP Newton step on the log of the Gaussian-blurred
  heatmap (kernel 11 for sigma 2), then times (input - 1) / (heatmap - 1).

Invisible keypoints (< 0.5) get an empty map and keep their visibility as weight; a visible keypoint
whose whole window misses the heatmap gets weight 0. A maximum <= 0 sets the location to -1 (heatmap
pixels, before the rescale), as MMPose.
"""
from __future__ import annotations

import numpy as np

from rtmposelib.codecs.inputs import checked_flip_indices, encoder_inputs


class _GaussianHeatmapCodec:
    """Shared encode machinery. input_size / heatmap_size: (w, h); sigma in heatmap pixels."""

    udp = False

    def __init__(self, *, input_size: tuple[int, int], heatmap_size: tuple[int, int] = (48, 64),
                 sigma: float = 2.0) -> None:
        if min(input_size) <= 1 or min(heatmap_size) <= 1:
            raise ValueError(f"input_size {input_size} and heatmap_size {heatmap_size} must be > 1")
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = float(sigma)
        inp, hm = np.array(self.input_size, np.float64), np.array(self.heatmap_size, np.float64)
        # crop pixels per heatmap pixel, (x, y)
        self.scale_factor = (inp - 1) / (hm - 1) if self.udp else inp / hm

    def encode(self, keypoints: np.ndarray, visible: np.ndarray) -> dict[str, np.ndarray]:
        """keypoints: (N, K, 2) crop pixels; visible: (N, K) (COCO v clipped to 1).

        Returns heatmaps (N, K, H_hm, W_hm) float32 (peak 1) and weights (N, K) float32.
        """
        keypoints, visible = encoder_inputs(keypoints, visible)
        labelled = visible >= 0.5
        p = np.where(np.isfinite(keypoints), keypoints, 0.0) / self.scale_factor   # heatmap pixels
        radius = 3 * self.sigma
        mu = (p + 0.5).astype(np.int64)                                # truncation, as MMPose
        left_top = (mu - radius).astype(np.int64)
        right_bottom = (mu + radius + 1).astype(np.int64)
        w, h = self.heatmap_size
        outside = ((left_top[..., 0] >= w) | (left_top[..., 1] >= h)
                   | (right_bottom[..., 0] < 0) | (right_bottom[..., 1] < 0))
        keep = labelled & ~outside
        weights = visible.copy()
        weights[labelled & outside] = 0.0

        # The 2-D Gaussian is separable and zero outside its window: the (size, size) window of each
        # kept keypoint is the outer product of two profiles, written into maps with a border of one
        # window on every side (a kept window always overlaps the map), then the border is cut off.
        size = int(np.ceil(2 * radius + 1))                            # len(arange(0, 2r + 1))
        centre = np.floor((2 * radius + 1) / 2) + (p - mu if self.udp else np.zeros_like(p))  # window coords
        pad = size + 1
        padded = np.zeros((*keep.shape, h + 2 * pad, w + 2 * pad), np.float32)
        ni, ki = np.nonzero(keep)                                      # (M,) kept keypoints
        if ni.size:
            i = np.arange(size)                                        # window index
            gx, gy = (np.exp(-((i - centre[ni, ki, axis, None]) ** 2) / (2 * self.sigma ** 2))
                      for axis in (0, 1))                              # (M, size) each
            rows = left_top[ni, ki, 1, None] + pad + i                 # (M, size) padded pixels
            cols = left_top[ni, ki, 0, None] + pad + i
            padded[ni[:, None, None], ki[:, None, None], rows[:, :, None], cols[:, None, :]] = \
                gy[:, :, None] * gx[:, None, :]                        # float64 product, stored float32
        heatmaps = np.ascontiguousarray(padded[..., pad:pad + h, pad:pad + w])
        return {"heatmaps": heatmaps, "weights": weights.astype(np.float32)}

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """heatmaps: (N, K, H_hm, W_hm) or (K, H_hm, W_hm). Returns keypoints (N, K, 2) float32 crop
        pixels and scores (N, K) float32 (the heatmap maxima)."""
        heatmaps = np.asarray(heatmaps, dtype=np.float32)
        if heatmaps.ndim == 3:
            heatmaps = heatmaps[None]
        if heatmaps.ndim != 4 or heatmaps.shape[-2:] != self.heatmap_size[::-1]:
            raise ValueError(f"heatmaps must be (N, K, {self.heatmap_size[1]}, {self.heatmap_size[0]}), "
                             f"got {heatmaps.shape}")
        n, k, h, w = heatmaps.shape
        flat = heatmaps.reshape(n, k, -1)
        idx = flat.argmax(-1)
        scores = flat.max(-1)
        locs = np.stack([idx % w, idx // w], axis=-1).astype(np.float64)
        locs[scores <= 0] = -1
        locs = self._refine(locs, heatmaps)
        return (locs * self.scale_factor).astype(np.float32), scores.astype(np.float32)

    def _refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class MSRAHeatmapCodec(_GaussianHeatmapCodec):
    """SimpleBaseline heatmaps (Xiao et al. 2018) with the quarter-offset decode."""

    udp = False

    def _refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """Move each argmax 0.25 px towards its higher neighbour, per axis (MMPose refine_keypoints)."""
        n, k, h, w = heatmaps.shape
        x, y = locs[..., 0].astype(np.int64), locs[..., 1].astype(np.int64)
        ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
        ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
        ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
        xc, yc = np.clip(x, 1, w - 2), np.clip(y, 1, h - 2)
        dx = heatmaps[ni, ki, np.clip(y, 0, h - 1), xc + 1] - heatmaps[ni, ki, np.clip(y, 0, h - 1), xc - 1]
        dy = heatmaps[ni, ki, yc + 1, np.clip(x, 0, w - 1)] - heatmaps[ni, ki, yc - 1, np.clip(x, 0, w - 1)]
        step = np.stack([np.where(ok_x, np.sign(dx), 0.0), np.where(ok_y, np.sign(dy), 0.0)], -1)
        return locs + 0.25 * step


class UDPHeatmapCodec(_GaussianHeatmapCodec):
    """UDP heatmaps (Huang et al. 2020) with the DARK-UDP decode; blur_kernel_size 11 suits sigma 2."""

    udp = True

    def __init__(self, *, input_size: tuple[int, int], heatmap_size: tuple[int, int] = (48, 64),
                 sigma: float = 2.0, blur_kernel_size: int = 11) -> None:
        super().__init__(input_size=input_size, heatmap_size=heatmap_size, sigma=sigma)
        if blur_kernel_size % 2 != 1:
            raise ValueError(f"blur_kernel_size must be odd, got {blur_kernel_size}")
        self.blur_kernel_size = blur_kernel_size

    def _refine(self, locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
        """One Newton step of the log-heatmap around the argmax (MMPose refine_keypoints_dark_udp)."""
        n, k, h, w = heatmaps.shape
        logs = np.log(np.clip(gaussian_blur(heatmaps, self.blur_kernel_size), 1e-3, 50.0))
        pad = np.pad(logs, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
        ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
        x = locs[..., 0].astype(np.int64) + 1                          # padded coordinates
        y = locs[..., 1].astype(np.int64) + 1

        def at(dx: int, dy: int) -> np.ndarray:
            # flat-index semantics of the official code: wraps like a raveled (H+2, W+2) map
            flat = (y + dy) * (w + 2) + (x + dx)
            return pad.reshape(n, k, -1)[ni, ki, np.clip(flat, 0, (h + 2) * (w + 2) - 1)]

        i0, ix1, ix1_, iy1, iy1_ = at(0, 0), at(1, 0), at(-1, 0), at(0, 1), at(0, -1)
        d = np.stack([0.5 * (ix1 - ix1_), 0.5 * (iy1 - iy1_)], -1)[..., None]       # (N, K, 2, 1)
        dxx = ix1 - 2 * i0 + ix1_
        dyy = iy1 - 2 * i0 + iy1_
        dxy = 0.5 * (at(1, 1) - ix1 - iy1 + 2 * i0 - ix1_ - iy1_ + at(-1, -1))
        hess = np.stack([np.stack([dxx, dxy], -1), np.stack([dxy, dyy], -1)], -2)  # (N, K, 2, 2)
        hess = hess + np.finfo(np.float32).eps * np.eye(2)
        return locs - (np.linalg.inv(hess) @ d)[..., 0]


def gaussian_blur(heatmaps: np.ndarray, kernel: int = 11) -> np.ndarray:
    """Blur each (H, W) map with OpenCV's default Gaussian for this kernel size (sigma = 0.3 *
    ((kernel - 1) / 2 - 1) + 0.8), zero padding, then rescale so each map keeps its maximum."""
    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    r = (kernel - 1) // 2
    g = np.exp(-((np.arange(kernel) - r) ** 2) / (2 * sigma ** 2))
    g /= g.sum()
    h, w = heatmaps.shape[-2:]
    padded = np.pad(heatmaps.astype(np.float64), [(0, 0)] * (heatmaps.ndim - 2) + [(r, r), (r, r)])
    rows = sum(g[i] * padded[..., i:i + h, :] for i in range(kernel))            # blur along y
    out = sum(g[i] * rows[..., :, i:i + w] for i in range(kernel))               # blur along x
    orig_max = heatmaps.max(axis=(-2, -1), keepdims=True)
    new_max = out.max(axis=(-2, -1), keepdims=True)
    return out * np.where(new_max != 0, orig_max / np.where(new_max != 0, new_max, 1), 1.0)


def flip_back_heatmaps(heatmaps: np.ndarray, flip_indices: list[int] | np.ndarray, *,
                       shift: bool = False) -> np.ndarray:
    """Heatmaps (N, K, H, W) of the flipped crop -> the plain crop's frame: channels permuted by
    ``flip_indices``, columns reversed, and with ``shift`` moved one column right (MMPose
    ``shift_heatmap``, used by the SimpleBaseline configs). Average 0.5 / 0.5 with the plain output."""
    flip_indices = checked_flip_indices(flip_indices, np.asarray(heatmaps).shape[-3])
    out = np.asarray(heatmaps)[..., flip_indices, :, ::-1].copy()
    if shift:
        out[..., 1:] = out[..., :-1].copy()
    return out
