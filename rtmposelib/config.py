"""Frozen configuration dataclasses for every part of RTMPose, and the model-zoo presets.

Values follow the official MMPose RTMPose configs (``configs/body_2d_keypoint/rtmpose/coco/
rtmpose-*_8xb256-420e_aic-coco-256x192.py``) and the paper's Table 7. Sizes are always ``(w, h)``.
Variants are made with :func:`dataclasses.replace`; the paper's roadmap steps are config deltas in
:mod:`rtmposelib.roadmap`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

# (deepen_factor, widen_factor) of CSPNeXt per model size (docs/official-behaviour.md "Model sizes").
CSPNEXT_FACTORS: dict[str, tuple[float, float]] = {
    "t": (0.167, 0.375),
    "s": (0.33, 0.5),
    "m": (0.67, 0.75),
    "l": (1.0, 1.0),
    "x": (1.33, 1.25),
}


def simcc_sigma(input_size: tuple[int, int], split_ratio: float = 2.0) -> tuple[float, float]:
    """The paper's separate sigma (Eq. 6): sigma = sqrt(bins / 16) per axis, rounded as the configs."""
    return tuple(round(math.sqrt(s * split_ratio / 16), 2) for s in input_size)  # type: ignore[return-value]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a top-down pose model: backbone + head."""

    backbone: str = "cspnext"                    # "cspnext" | "resnet50" (Table 1 baselines)
    deepen_factor: float = 0.67                  # CSPNeXt blocks multiplier
    widen_factor: float = 0.75                   # CSPNeXt channels multiplier
    head: str = "rtmcc"                          # "rtmcc" | "simcc" (with deconvs) | "heatmap"
    input_size: tuple[int, int] = (192, 256)     # (w, h) pixels of the crop
    num_keypoints: int = 17
    # RTMCC head (also SimCC*, the trimmed SimCC head, when hidden_dims=None and use_gau=False)
    final_kernel_size: int = 7                   # last conv kernel: 1 | 3 | 5 | 7 | 9 (Table 2)
    hidden_dims: int | None = 256                # FC expansion of the flattened map; None = classify directly
    use_gau: bool = True                         # Gated Attention Unit over the K keypoint tokens
    gau_s: int = 128                             # attention key dim s
    gau_expansion: int = 2                       # e = expansion * hidden_dims
    gau_attention: str = "official"              # "official": relu^2(QK^T/sqrt s); "paper": (1/n) relu^2(...)
    simcc_split_ratio: float = 2.0               # bins per input pixel
    # heatmap / standard SimCC heads: SimpleBaseline deconvs (channels, kernel 4, stride 2)
    deconv_channels: tuple[int, ...] = (256, 256, 256)

    def __post_init__(self) -> None:
        if self.backbone not in ("cspnext", "resnet50"):
            raise ValueError(f"backbone must be 'cspnext' or 'resnet50', got {self.backbone!r}")
        if self.head not in ("rtmcc", "simcc", "heatmap"):
            raise ValueError(f"head must be 'rtmcc', 'simcc' or 'heatmap', got {self.head!r}")
        if self.final_kernel_size % 2 != 1:
            raise ValueError(f"final_kernel_size must be odd, got {self.final_kernel_size}")
        if self.gau_attention not in ("official", "paper"):
            raise ValueError(f"gau_attention must be 'official' or 'paper', got {self.gau_attention!r}")
        if any(s % 32 for s in self.input_size):
            raise ValueError(f"input_size (w, h) must be multiples of 32, got {self.input_size}")


@dataclass(frozen=True)
class CodecConfig:
    """Keypoint codec: SimCC labels (RTMPose) or UDP heatmaps (backbone pre-training, baselines)."""

    kind: str = "simcc"                          # "simcc" | "udp_heatmap" | "msra_heatmap"
    input_size: tuple[int, int] = (192, 256)     # (w, h)
    # SimCC
    sigma: tuple[float, float] = (4.9, 5.66)     # per axis (x, y); equal values = one shared sigma
    split_ratio: float = 2.0
    normalize: bool = False                      # official RTMPose: unnormalised Gaussian labels
    confidence: str = "min"                      # "min" of the two maxima (MMPose) | "mean" (rtmlib)
    # heatmap
    heatmap_size: tuple[int, int] = (48, 64)     # (w, h)
    heatmap_sigma: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in ("simcc", "udp_heatmap", "msra_heatmap"):
            raise ValueError(f"codec kind must be simcc|udp_heatmap|msra_heatmap, got {self.kind!r}")
        if self.confidence not in ("min", "mean"):
            raise ValueError(f"confidence must be 'min' or 'mean', got {self.confidence!r}")


@dataclass(frozen=True)
class LossConfig:
    """KL divergence between SimCC distributions (docs/official-behaviour.md "KL loss"), or heatmap MSE."""

    kind: str = "kl_discret"                     # "kl_discret" | "keypoint_mse"
    beta: float = 10.0                           # 1/tau on the prediction
    label_softmax: bool = True                   # softmax(label_beta * label) as target
    label_beta: float = 10.0                     # 1/tau on the label
    use_target_weight: bool = True


@dataclass(frozen=True)
class AugmentConfig:
    """One stage of the top-down training pipeline (docs/official-behaviour.md "Training recipe")."""

    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    shift_factor: float = 0.16                   # centre += t * factor * S, t ~ truncnorm(-1, 1)
    shift_prob: float = 0.3
    scale_factor: tuple[float, float] = (0.6, 1.4)
    scale_prob: float = 1.0
    rotate_factor: float = 80.0                  # degrees, rotation = t * factor
    rotate_prob: float = 0.6
    hsv_gains: tuple[int, int, int] | None = (5, 30, 30)   # YOLOX HSV (hue, sat, val); None = off
    blur_prob: float = 0.1
    median_blur_prob: float = 0.1
    cutout_prob: float = 1.0                     # CoarseDropout, one hole of 0.2-0.4 of the crop


# The strong (stage 1) and weak (stage 2) pipelines of RTMPose, and MMPose's plain top-down pipeline
# used before the paper's "two-stage augmentation" step.
STRONG_AUG = AugmentConfig()
WEAK_AUG = AugmentConfig(shift_factor=0.0, scale_factor=(0.75, 1.25), rotate_factor=60.0, cutout_prob=0.5)
BASE_AUG = AugmentConfig(scale_factor=(0.5, 1.5), hsv_gains=None, blur_prob=0.0, median_blur_prob=0.0,
                         cutout_prob=0.0)


@dataclass(frozen=True)
class DataConfig:
    """Where the images and annotations are. ``source`` is ``synth:<size>`` or a COCO-format root."""

    source: str = "synth:smoke"                  # "synth:smoke" | "synth:cpu" | "synth:<n_images>" | path
    train_ann: str = "annotations/person_keypoints_train2017.json"
    train_images: str = "train2017"
    val_ann: str = "annotations/person_keypoints_val2017.json"
    val_images: str = "val2017"
    val_bbox_file: str | None = None             # COCO detection results; None = ground-truth boxes
    det_score_thr: float = 0.0
    dataset: str = "coco"                        # metainfo name (rtmposelib.data.metainfo)
    bbox_padding: float = 1.25
    num_workers: int = 2
    persistent_workers: bool = True              # keep the loader's worker processes from epoch to epoch
    image_cache_mb: int = 1024                   # decoded-image cache of a SynthPose set, per process; 0 = off
    extra_train: tuple[str, ...] = ()            # more COCO-format roots (e.g. AIC mapped to COCO)
    val_headbox_file: str | None = None          # MPII head boxes (.mat as mpii_gt_val.mat, or .json); None = estimate


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation recipe (Table 7; docs/official-behaviour.md "Training recipe"). Epoch counts scale with
    ``epochs``."""

    epochs: int = 420
    batch_size: int = 256                        # per process
    drop_last: bool = False                      # False keeps the last partial batch (official loader)
    base_lr: float = 4e-3
    weight_decay: float = 0.05
    decay_norm_and_bias: bool = False            # False: no weight decay on norm and bias parameters
    warmup_iters: int = 1000                     # linear 1e-5 -> 1
    warmup_start_factor: float = 1e-5
    lr_schedule: str = "flat_cosine"             # "flat_cosine" | "cosine"
    cosine_start_frac: float = 0.5               # flat-cosine: cosine over the second half
    eta_min_ratio: float = 0.05                  # final lr = ratio * base_lr
    ema: bool = True
    ema_momentum: float = 2e-4
    ema_gamma: float = 2000.0
    stage2_epochs: int = 30                      # last N epochs use the weak pipeline; 0 = one stage
    clip_grad: float | None = None               # max L2 norm
    val_interval: int = 10                       # epochs
    seed: int = 21
    amp: bool = False                            # mixed precision, GPU only
    # CPU speed of the step (rtmposelib.train.speed); none changes the recipe, only kernels and layouts
    channels_last: bool = True                   # channels-last memory format for model and input
    bf16: bool = False                           # bfloat16 autocast of the forward (CPUs with AVX512-BF16 or AMX)
    optimizer_impl: str = "fused"                # AdamW kernel: "for_loop" (torch's CPU default) | "foreach" | "fused"
    flush_denormal: bool = True                  # treat denormal floats as zero while training
    init_backbone: str | None = None             # checkpoint whose backbone initialises ours

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("flat_cosine", "cosine"):
            raise ValueError(f"lr_schedule must be 'flat_cosine' or 'cosine', got {self.lr_schedule!r}")
        if self.optimizer_impl not in ("for_loop", "foreach", "fused"):
            raise ValueError(f"optimizer_impl must be 'for_loop', 'foreach' or 'fused', got {self.optimizer_impl!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything one training / evaluation run needs."""

    name: str = "rtmpose-m"
    model: ModelConfig = field(default_factory=ModelConfig)
    codec: CodecConfig = field(default_factory=CodecConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    aug_stage1: AugmentConfig = STRONG_AUG
    aug_stage2: AugmentConfig = WEAK_AUG
    flip_test: bool = True

    def __post_init__(self) -> None:
        if self.model.input_size != self.codec.input_size:
            raise ValueError(f"model input_size {self.model.input_size} != codec input_size "
                             f"{self.codec.input_size}")


def rtmpose(size: str, input_size: tuple[int, int] = (192, 256), num_keypoints: int = 17) -> RunConfig:
    """The official RTMPose config of one size ("t", "s", "m", "l", "x")."""
    if size not in CSPNEXT_FACTORS:
        raise ValueError(f"size must be one of {sorted(CSPNEXT_FACTORS)}, got {size!r}")
    deepen, widen = CSPNEXT_FACTORS[size]
    model = ModelConfig(deepen_factor=deepen, widen_factor=widen, input_size=input_size,
                        num_keypoints=num_keypoints)
    codec = CodecConfig(input_size=input_size, sigma=simcc_sigma(input_size))
    wholebody = num_keypoints == 133
    small = size in ("t", "s") and not wholebody
    train = TrainConfig(weight_decay=0.0 if small else 0.05, ema=size != "t" or wholebody)
    if size == "x":
        train = replace(train, epochs=700, stage2_epochs=20, clip_grad=35.0)
    if wholebody:
        train = replace(train, epochs=270, stage2_epochs=30, batch_size=64 if input_size[1] == 256 else 32)
    name = f"rtmpose-{size}" + ("-wholebody" if wholebody else "")
    if input_size != (192, 256):
        name += f"-{input_size[1]}x{input_size[0]}"
    return RunConfig(name=name, model=model, codec=codec, train=train)


PRESETS: dict[str, RunConfig] = {
    "rtmpose-t": rtmpose("t"),
    "rtmpose-s": rtmpose("s"),
    "rtmpose-m": rtmpose("m"),
    "rtmpose-l": rtmpose("l"),
    "rtmpose-m-384x288": rtmpose("m", (288, 384)),
    "rtmpose-l-384x288": rtmpose("l", (288, 384)),
    "rtmpose-x-384x288": rtmpose("x", (288, 384)),
    "rtmpose-t-wholebody": rtmpose("t", num_keypoints=133),
    "rtmpose-s-wholebody": rtmpose("s", num_keypoints=133),
    "rtmpose-m-wholebody": rtmpose("m", num_keypoints=133),
    "rtmpose-l-wholebody": rtmpose("l", num_keypoints=133),
    "rtmpose-l-wholebody-384x288": rtmpose("l", (288, 384), num_keypoints=133),
}


def preset(name: str) -> RunConfig:
    """Look up a preset by name, with the list of valid names in the error."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}") from None
