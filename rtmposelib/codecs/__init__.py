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
           "flip_back_heatmaps", "crop_to_image", "image_to_crop"]

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
