"""Where the data comes from: ``DataConfig.source`` -> file paths -> the train and val datasets.

``source`` is ``synth:<size>`` (SynthPose, generated and cached by :func:`make_synthpose`; size
"smoke", "cpu" or a number of training images) or a directory in the COCO layout
(``annotations/person_keypoints_{train,val}2017.json``, ``train2017/``, ``val2017/``, paths as in the
config). ``extra_train`` adds more roots in the same layout; an ``aic:<root>`` entry is AI Challenger,
mapped to COCO keypoints, and then the main set is repeated 3x as the official AIC+COCO configs.

With ``DataConfig.dataset == "mpii"`` the annotation files are MPII-format json lists (e.g.
``val_ann="annotations/mpii_val.json"``, ``val_images="images"``) read by
:class:`rtmposelib.data.mpii.TopdownMpiiDataset`; ``val_headbox_file`` (relative to the root, or
absolute) gives the official head boxes for PCKh, else head sizes are estimated (see that module).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtmposelib.config import DataConfig, RunConfig
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.combined import AIC_TO_COCO, COCO_REPEAT_WITH_AIC, CombinedDataset
from rtmposelib.data.image_cache import DecodedImageCache
from rtmposelib.data.metainfo import get_metainfo


@dataclass(frozen=True)
class DataPaths:
    """Resolved, existing files of one COCO-format root (val_bbox_file None = ground-truth boxes)."""

    root: Path
    train_ann: Path
    train_images: Path
    val_ann: Path
    val_images: Path
    val_bbox_file: Path | None = None
    val_headbox_file: Path | None = None


def _root_of(source: str) -> Path:
    if source.startswith("synth:"):
        from rtmposelib.data.synthetic import make_synthpose
        size = source.split(":", 1)[1]
        return make_synthpose(int(size) if size.isdigit() else size)
    return Path(source).expanduser()


def _paths(root: Path, cfg: DataConfig, *, need_val: bool = True) -> DataPaths:
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist (DataConfig.source)")
    bbox = None if cfg.val_bbox_file is None else root / cfg.val_bbox_file   # absolute stays absolute
    heads = None if cfg.val_headbox_file is None else root / cfg.val_headbox_file
    paths = DataPaths(root=root, train_ann=root / cfg.train_ann, train_images=root / cfg.train_images,
                      val_ann=root / cfg.val_ann, val_images=root / cfg.val_images, val_bbox_file=bbox,
                      val_headbox_file=heads)
    wanted = {"train_ann": paths.train_ann, "train_images": paths.train_images}
    if need_val:
        wanted |= {"val_ann": paths.val_ann, "val_images": paths.val_images}
        if bbox is not None:
            wanted["val_bbox_file"] = bbox
        if heads is not None:
            wanted["val_headbox_file"] = heads
    missing = [f"{name} = {p}" for name, p in wanted.items() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"data root {root} is not in the expected COCO layout; missing: "
                                + "; ".join(missing))
    return paths


def resolve_data(cfg: DataConfig) -> DataPaths:
    """The files of ``cfg.source`` (generating SynthPose if needed); FileNotFoundError lists what is missing."""
    return _paths(_root_of(cfg.source), cfg)


def build_datasets(cfg: RunConfig) -> tuple:
    """(train dataset with ``cfg.aug_stage1``, val dataset without augmentation) of a run.

    Targets come from ``build_codec(cfg.codec)``; a UDP heatmap codec selects the UDP affine.
    Val uses ``cfg.data.val_bbox_file`` (detector boxes, score >= det_score_thr) when set.
    """
    from rtmposelib.codecs import build_codec

    paths = resolve_data(cfg.data)
    metainfo = get_metainfo(cfg.data.dataset)
    common: dict[str, Any] = dict(metainfo=metainfo, codec=build_codec(cfg.codec), input_size=cfg.codec.input_size,
                  bbox_padding=cfg.data.bbox_padding, udp=cfg.codec.kind == "udp_heatmap")
    if cfg.data.dataset == "mpii":
        return _mpii_datasets(cfg, paths, common)
    train = TopdownCocoDataset(ann_file=paths.train_ann, image_dir=paths.train_images, augment=cfg.aug_stage1,
                               seed=cfg.train.seed, **common)
    if cfg.data.extra_train:
        parts, names, repeats = [train], [str(paths.root)], [1]
        for entry in cfg.data.extra_train:
            is_aic = entry.startswith("aic:")
            extra = _paths(_root_of(entry[4:] if is_aic else entry), cfg.data, need_val=False)
            parts.append(TopdownCocoDataset(ann_file=extra.train_ann, image_dir=extra.train_images,
                                            augment=cfg.aug_stage1, seed=cfg.train.seed,
                                            keypoint_mapping=AIC_TO_COCO if is_aic else None, **common))
            names.append(entry)
            repeats.append(1)
            if is_aic:
                repeats[0] = COCO_REPEAT_WITH_AIC
        train = CombinedDataset(parts, repeats, names)
    if cfg.data.source.startswith("synth:") and cfg.data.image_cache_mb > 0 and not cfg.data.extra_train:
        assert isinstance(train, TopdownCocoDataset)            # no extra roots: not combined
        train.image_cache = DecodedImageCache(cfg.data.image_cache_mb * 2**20)   # SynthPose fits in memory
    val = TopdownCocoDataset(ann_file=paths.val_ann, image_dir=paths.val_images, augment=None,
                             bbox_file=paths.val_bbox_file, det_score_thr=cfg.data.det_score_thr,
                             seed=cfg.train.seed, **common)
    return train, val


def _mpii_datasets(cfg: RunConfig, paths: DataPaths, common: dict) -> tuple:
    """(train, val) MPII-format datasets; extra roots and detector boxes do not apply to MPII."""
    from rtmposelib.data.mpii import TopdownMpiiDataset

    if cfg.data.extra_train or paths.val_bbox_file is not None:
        raise ValueError("DataConfig for 'mpii': extra_train and val_bbox_file are not supported (MPII is "
                         "single-person with annotated boxes)")
    train = TopdownMpiiDataset(ann_file=paths.train_ann, image_dir=paths.train_images, augment=cfg.aug_stage1,
                               seed=cfg.train.seed, **common)
    val = TopdownMpiiDataset(ann_file=paths.val_ann, image_dir=paths.val_images, augment=None,
                             seed=cfg.train.seed, headbox_file=paths.val_headbox_file, **common)
    return train, val
