"""Multi-dataset training: COCO + AI Challenger with the official repeat and keypoint mapping.

As MMPose's ``rtmpose-*_8xb256-420e_aic-coco-256x192.py`` (docs/official-behaviour.md "Training recipe"):
``CombinedDataset`` of
``RepeatDataset(COCO, times=3)`` and AIC, where AIC's 14 keypoints are moved to COCO's 17 by
``KeypointConverter`` (aic -> coco: 0->6, 1->8, 2->10, 3->5, 4->7, 5->9, 6->12, 7->14, 8->16, 9->11,
10->13, 11->15). AIC's head-top and neck are dropped; the COCO face points (nose, eyes, ears) are
absent, i.e. invisible with zero targets. The mapping runs before augmentation, so flips use COCO's
flip indices. Each position of the combined index draws its own randomness, so the three COCO
repeats of an instance are augmented independently within an epoch.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

import numpy as np
from torch.utils.data import Dataset

from rtmposelib.config import AugmentConfig


@dataclass(frozen=True)
class KeypointMapping:
    """Move keypoints of one set (num_source_keypoints) to another (num_target_keypoints) by index pairs."""

    name: str
    num_source_keypoints: int
    num_target_keypoints: int
    pairs: tuple[tuple[int, int], ...]                     # (source index, target index)

    def apply(self, keypoints: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """keypoints (Ks, 2), visible (Ks,) -> (Kt, 2) float32, (Kt,) float32; unmapped targets invisible."""
        if keypoints.shape[0] != self.num_source_keypoints:
            raise ValueError(f"{self.name}: expected {self.num_source_keypoints} source keypoints, "
                             f"got {keypoints.shape[0]}")
        src, dst = np.array(self.pairs).T
        out_k = np.zeros((self.num_target_keypoints, 2), np.float32)
        out_v = np.zeros(self.num_target_keypoints, np.float32)
        out_k[dst], out_v[dst] = keypoints[src], visible[src]
        return out_k, out_v

    def __str__(self) -> str:
        return self.name


AIC_TO_COCO = KeypointMapping("aic->coco", 14, 17, ((0, 6), (1, 8), (2, 10), (3, 5), (4, 7), (5, 9), (6, 12),
                                                    (7, 14), (8, 16), (9, 11), (10, 13), (11, 15)))
COCO_REPEAT_WITH_AIC = 3                                   # RepeatDataset(times=3) in the aic-coco configs


class CombinedDataset(Dataset):
    """Concatenation of top-down datasets, each repeated ``repeats[i]`` times (RepeatDataset + Combined).

    The datasets must share keypoints (map them first). ``set_epoch`` / ``set_augment`` reach every
    part; ``skipped`` merges their counts as ``"<part>/<reason>"``.
    """

    def __init__(self, datasets: list, repeats: list[int] | None = None, names: list[str] | None = None) -> None:
        if not datasets:
            raise ValueError("CombinedDataset needs at least one dataset")
        repeats = list(repeats or [1] * len(datasets))
        if len(repeats) != len(datasets) or min(repeats) < 1:
            raise ValueError(f"repeats {repeats} must be positive, one per dataset ({len(datasets)})")
        ks = {d.metainfo.num_keypoints for d in datasets}
        if len(ks) != 1:
            raise ValueError(f"combined datasets have different keypoint counts {sorted(ks)}; map them first")
        self.datasets, self.repeats = list(datasets), repeats
        self.names = names or [f"part{i}" for i in range(len(datasets))]
        self.metainfo = datasets[0].metainfo
        sizes = [len(d) * r for d, r in zip(datasets, repeats)]
        self.offsets = np.cumsum([0] + sizes).tolist()

    def __len__(self) -> int:
        return self.offsets[-1]

    def locate(self, index: int) -> tuple[int, int]:
        """Global index -> (dataset number, index inside that dataset)."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a combined dataset of {len(self)}")
        part = bisect_right(self.offsets, index) - 1
        return part, (index - self.offsets[part]) % len(self.datasets[part])

    def __getitem__(self, index: int) -> dict:
        part, local = self.locate(index)
        return self.datasets[part].item(local, key=index)

    def set_epoch(self, epoch: int) -> None:
        for d in self.datasets:
            d.set_epoch(epoch)

    def set_augment(self, augment: AugmentConfig | None) -> None:
        for d in self.datasets:
            d.set_augment(augment)

    @property
    def skipped(self) -> Counter:
        return Counter({f"{n}/{reason}": c for n, d in zip(self.names, self.datasets)
                        for reason, c in d.skipped.items()})
