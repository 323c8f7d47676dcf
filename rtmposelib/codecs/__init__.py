"""Keypoint codecs (numpy only): SimCC labels and heatmaps.

A codec turns crop keypoints into training targets (``encode``) and model outputs back into crop
keypoints and scores (``decode``); :func:`crop_to_image` then maps them to image pixels.
"""
from __future__ import annotations

from rtmposelib.codecs.heatmap import MSRAHeatmapCodec, UDPHeatmapCodec, flip_back_heatmaps
from rtmposelib.codecs.image_space import crop_to_image, image_to_crop
from rtmposelib.codecs.simcc import SimCCCodec, flip_back
from rtmposelib.config import CodecConfig

__all__ = ["SimCCCodec", "MSRAHeatmapCodec", "UDPHeatmapCodec", "build_codec", "flip_back",
           "flip_back_heatmaps", "flip_test_average", "crop_to_image", "image_to_crop"]

Codec = SimCCCodec | MSRAHeatmapCodec | UDPHeatmapCodec


def build_codec(cfg: CodecConfig) -> Codec:
    """The codec named by ``cfg.kind``: "simcc" | "udp_heatmap" | "msra_heatmap"."""
    if cfg.kind == "simcc":
        return SimCCCodec(input_size=cfg.input_size, sigma=cfg.sigma, split_ratio=cfg.split_ratio,
                          normalize=cfg.normalize, confidence=cfg.confidence)
    if cfg.kind == "udp_heatmap":
        return UDPHeatmapCodec(input_size=cfg.input_size, heatmap_size=cfg.heatmap_size,
                               sigma=cfg.heatmap_sigma)
    if cfg.kind == "msra_heatmap":
        return MSRAHeatmapCodec(input_size=cfg.input_size, heatmap_size=cfg.heatmap_size,
                                sigma=cfg.heatmap_sigma)
    raise ValueError(f"codec kind must be simcc|udp_heatmap|msra_heatmap, got {cfg.kind!r}")


def flip_test_average(codec: Codec, outputs: tuple, flipped: tuple, flip_indices) -> tuple:
    """The official flip test on raw outputs (docs/official-behaviour.md "SimCC codec"): the flipped crop's outputs
    brought back to the
    plain crop's frame and averaged 0.5 / 0.5 with the plain ones.

    outputs / flipped: (simcc_x (N, K, Wb), simcc_y (N, K, Hb)) for SimCC, (heatmaps (N, K, Hh, Wh),) for
    heatmap codecs; MSRA (SimpleBaseline) heatmaps are shifted one column back, UDP ones are not.
    """
    if isinstance(codec, SimCCCodec):
        simcc_x, simcc_y = flipped
        back = flip_back(simcc_x, simcc_y, flip_indices)
    else:
        back = (flip_back_heatmaps(flipped[0], flip_indices, shift=isinstance(codec, MSRAHeatmapCodec)),)
    return tuple(0.5 * (a + b) for a, b in zip(outputs, back))
