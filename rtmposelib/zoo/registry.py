"""The model zoo: every officially released RTMPose checkpoint and RTMDet person detector we can load,
by name.

One frozen :class:`ZooEntry` per released file, in one dict literal (:data:`ZOO`). The facts come from
MMPose's ``projects/rtmpose/README.md`` and the per-dataset model-zoo pages of its configs
(``configs/*/rtmpose/*/rtmpose_*.md``): the download URL, the sha256 prefix that MMPose's
``publish_model`` embeds in the file name (the first 8 hex digits of the file's sha256), the input size,
the keypoint set, the training data and the published accuracy. ``onnx_url`` is the MMDeploy SDK zip
(``end2end.onnx`` + ``pipeline.json`` + ``deploy.json``) where the release has one; its name carries
the checkpoint's hash, not the zip's, so a zip is checked by its structure instead.

Naming: ``rtmpose-<size>`` is the paper's AIC+COCO model (the numbers of the paper's tables),
``-coco`` COCO only, ``-body7`` the seven-dataset models, ``-384x288`` the larger input; wholebody,
CrowdPose, MPII and AP-10K models carry their dataset; ``cspnext-<size>-imagenet`` are the ImageNet
backbones the paper's training starts from. A bare preset name (``rtmpose-m``) elsewhere in
the project means the architecture; ``zoo:rtmpose-m`` means these released weights.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, replace

from rtmposelib.config import RunConfig, rtmpose

RELEASE_HOST = "https://download.openmmlab.com"
URL_ENV = "RTMPOSE_ZOO_URL"          # replaces RELEASE_HOST (a mirror, or a test server)

_POSE = RELEASE_HOST + "/mmpose/v1/projects/rtmposev1/"
_SDK = _POSE + "onnx_sdk/"
_DET = RELEASE_HOST + "/mmpose/v1/projects/rtmpose/"
_IMAGENET = RELEASE_HOST + "/mmdetection/v3.0/rtmdet/cspnext_rsb_pretrain/"


@dataclass(frozen=True)
class ZooEntry:
    """One released file. input_size is (w, h); ``published`` is ``metric`` as the release reports it
    (percent); ``size`` the RTMPose size letter (pose) or the RTMDet size name (detectors)."""

    url: str
    sha256: str                          # prefix embedded in the file name
    kind: str                            # "pose" | "detector" | "backbone"
    size: str                            # t | s | m | l | x (pose, backbone), nano | m (detector)
    input_size: tuple[int, int]
    keypoints: str                       # metainfo name (coco, coco_wholebody, ...); "person"; "none"
    num_keypoints: int
    training_data: str
    metric: str                          # e.g. "COCO AP", "Whole AP", "PCKh@0.5", "box AP", "top-1"
    published: float
    onnx_url: str | None = None

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[1]


def _pose(file: str, sha: str, size: str, wh: tuple[int, int], data: str, metric: str, ap: float, *,
          keypoints: str = "coco", k: int = 17, sdk: bool = False) -> ZooEntry:
    return ZooEntry(url=_POSE + file + ".pth", sha256=sha, kind="pose", size=size, input_size=wh,
                    keypoints=keypoints, num_keypoints=k, training_data=data, metric=metric, published=ap,
                    onnx_url=_SDK + file + ".zip" if sdk else None)


def _imagenet(file: str, size: str, top1: float) -> ZooEntry:
    return ZooEntry(url=_IMAGENET + file, sha256=file[-12:-4], kind="backbone", size=size, input_size=(224, 224),
                    keypoints="none", num_keypoints=0, training_data="ImageNet-1k", metric="top-1", published=top1)


_AC, _B7 = "AIC+COCO", "Body7 (AIC, COCO, CrowdPose, MPII, sub-JHMDB, Halpe, PoseTrack18)"
_WB = "COCO-WholeBody (backbone pre-trained on AIC+COCO)"

ZOO: dict[str, ZooEntry] = {
    # body, 17 COCO keypoints, trained on AIC+COCO (the paper's models; COCO val2017, detector boxes, flip)
    "rtmpose-t": _pose("rtmpose-tiny_simcc-aic-coco_pt-aic-coco_420e-256x192-cfc8f33d_20230126", "cfc8f33d",
                       "t", (192, 256), _AC, "COCO AP", 68.5),
    "rtmpose-s": _pose("rtmpose-s_simcc-aic-coco_pt-aic-coco_420e-256x192-fcb2599b_20230126", "fcb2599b",
                       "s", (192, 256), _AC, "COCO AP", 72.2),
    "rtmpose-m": _pose("rtmpose-m_simcc-aic-coco_pt-aic-coco_420e-256x192-63eb25f7_20230126", "63eb25f7",
                       "m", (192, 256), _AC, "COCO AP", 75.8),
    "rtmpose-l": _pose("rtmpose-l_simcc-aic-coco_pt-aic-coco_420e-256x192-f016ffe0_20230126", "f016ffe0",
                       "l", (192, 256), _AC, "COCO AP", 76.5),
    "rtmpose-m-384x288": _pose("rtmpose-m_simcc-aic-coco_pt-aic-coco_420e-384x288-a62a0b32_20230228", "a62a0b32",
                               "m", (288, 384), _AC, "COCO AP", 77.0),
    "rtmpose-l-384x288": _pose("rtmpose-l_simcc-aic-coco_pt-aic-coco_420e-384x288-97d6cb0f_20230228", "97d6cb0f",
                               "l", (288, 384), _AC, "COCO AP", 77.3),
    # body, trained on COCO only
    "rtmpose-t-coco": _pose("rtmpose-tiny_simcc-coco_pt-aic-coco_420e-256x192-e613ba3f_20230127", "e613ba3f",
                            "t", (192, 256), "COCO", "COCO AP", 68.2),
    "rtmpose-s-coco": _pose("rtmpose-s_simcc-coco_pt-aic-coco_420e-256x192-8edcf0d7_20230127", "8edcf0d7",
                            "s", (192, 256), "COCO", "COCO AP", 71.6),
    "rtmpose-m-coco": _pose("rtmpose-m_simcc-coco_pt-aic-coco_420e-256x192-d8dd5ca4_20230127", "d8dd5ca4",
                            "m", (192, 256), "COCO", "COCO AP", 74.6),
    "rtmpose-l-coco": _pose("rtmpose-l_simcc-coco_pt-aic-coco_420e-256x192-1352a4d2_20230127", "1352a4d2",
                            "l", (192, 256), "COCO", "COCO AP", 75.8),
    # body, trained on Body7 (with ONNX SDK zips)
    "rtmpose-t-body7": _pose("rtmpose-t_simcc-body7_pt-body7_420e-256x192-026a1439_20230504", "026a1439",
                             "t", (192, 256), _B7, "COCO AP", 65.9, sdk=True),
    "rtmpose-s-body7": _pose("rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504", "acd4a1ef",
                             "s", (192, 256), _B7, "COCO AP", 69.7, sdk=True),
    "rtmpose-m-body7": _pose("rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504", "e48f03d0",
                             "m", (192, 256), _B7, "COCO AP", 74.9, sdk=True),
    "rtmpose-l-body7": _pose("rtmpose-l_simcc-body7_pt-body7_420e-256x192-4dba18fc_20230504", "4dba18fc",
                             "l", (192, 256), _B7, "COCO AP", 76.7, sdk=True),
    "rtmpose-m-384x288-body7": _pose("rtmpose-m_simcc-body7_pt-body7_420e-384x288-65e718c4_20230504", "65e718c4",
                                     "m", (288, 384), _B7, "COCO AP", 76.6, sdk=True),
    "rtmpose-l-384x288-body7": _pose("rtmpose-l_simcc-body7_pt-body7_420e-384x288-3f5a1437_20230504", "3f5a1437",
                                     "l", (288, 384), _B7, "COCO AP", 78.3, sdk=True),
    "rtmpose-x-384x288-body7": _pose("rtmpose-x_simcc-body7_pt-body7_700e-384x288-71d7b7e9_20230629", "71d7b7e9",
                                     "x", (288, 384), _B7, "COCO AP", 78.8, sdk=True),
    # whole body, 133 keypoints (COCO-WholeBody val, Whole AP)
    "rtmpose-m-wholebody": _pose("rtmpose-m_simcc-coco-wholebody_pt-aic-coco_270e-256x192-cd5e845c_20230123",
                                 "cd5e845c", "m", (192, 256), _WB, "Whole AP", 58.2,
                                 keypoints="coco_wholebody", k=133),
    "rtmpose-l-wholebody": _pose("rtmpose-l_simcc-coco-wholebody_pt-aic-coco_270e-256x192-6f206314_20230124",
                                 "6f206314", "l", (192, 256), _WB, "Whole AP", 61.1,
                                 keypoints="coco_wholebody", k=133),
    "rtmpose-l-wholebody-384x288": _pose(
        "rtmpose-l_simcc-coco-wholebody_pt-aic-coco_270e-384x288-eaeb96c8_20230125", "eaeb96c8", "l", (288, 384),
        _WB, "Whole AP", 64.8, keypoints="coco_wholebody", k=133),
    # the paper's Tables 8 / 9: CrowdPose (14 keypoints), MPII (16, PCKh), AP-10K (17 animal keypoints)
    "rtmpose-m-crowdpose": _pose("rtmpose-m_simcc-crowdpose_pt-aic-coco_210e-256x192-e6192cac_20230224",
                                 "e6192cac", "m", (192, 256), "CrowdPose", "AP", 70.6,
                                 keypoints="crowdpose", k=14),
    "rtmpose-m-mpii": _pose("rtmpose-m_simcc-mpii_pt-aic-coco_210e-256x256-ec4dbec8_20230206", "ec4dbec8",
                            "m", (256, 256), "MPII", "PCKh@0.5", 90.7, keypoints="mpii", k=16),
    "rtmpose-m-ap10k": _pose("rtmpose-m_simcc-ap10k_pt-aic-coco_210e-256x256-7a041aa1_20230206", "7a041aa1",
                             "m", (256, 256), "AP-10K", "AP", 72.2, keypoints="ap10k", sdk=True),
    # ImageNet CSPNeXt backbones (MMDetection's RSB pre-training), the paper's starting point at full scale
    "cspnext-t-imagenet": _imagenet("cspnext-tiny_imagenet_600e-3a2dd350.pth", "t", 69.44),
    "cspnext-s-imagenet": _imagenet("cspnext-s_imagenet_600e-ea671761.pth", "s", 74.41),
    "cspnext-m-imagenet": _imagenet("cspnext-m_8xb256-rsb-a1-600e_in1k-ecb3bbd9.pth", "m", 79.27),
    "cspnext-l-imagenet": _imagenet("cspnext-l_8xb256-rsb-a1-600e_in1k-6a760974.pth", "l", 81.30),
    "cspnext-x-imagenet": _imagenet("cspnext-x_8xb256-rsb-a1-600e_in1k-b3f78edd.pth", "x", 82.10),
    # RTMDet person detectors (MMDetection checkpoints; box AP on COCO val2017 person)
    "rtmdet-nano": ZooEntry(url=_DET + "rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.pth", sha256="05d8511e",
                            kind="detector", size="nano", input_size=(320, 320), keypoints="person",
                            num_keypoints=0, training_data="COCO+Objects365 person", metric="box AP",
                            published=40.3,
                            onnx_url=_SDK + "rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.zip"),
    "rtmdet-m": ZooEntry(url=_DET + "rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth", sha256="235e8209",
                         kind="detector", size="m", input_size=(640, 640), keypoints="person", num_keypoints=0,
                         training_data="COCO+Objects365 person", metric="box AP", published=62.5,
                         onnx_url=_SDK + "rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.zip"),
}


def get_entry(name: str, zoo: dict[str, ZooEntry] | None = None) -> ZooEntry:
    """The entry ``name``; an unknown name is a ValueError that suggests the closest names."""
    zoo = ZOO if zoo is None else zoo
    if name in zoo:
        return zoo[name]
    close = difflib.get_close_matches(name, list(zoo), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "see `rtmpose zoo list`"
    raise ValueError(f"unknown model-zoo name {name!r}; {hint}")


def release_url(url: str) -> str:
    """``url`` with the release host replaced by ``$RTMPOSE_ZOO_URL`` when that is set (a mirror)."""
    base = os.environ.get(URL_ENV)
    if base and url.startswith(RELEASE_HOST):
        return base.rstrip("/") + url[len(RELEASE_HOST):]
    return url


def pose_run_config(entry: ZooEntry) -> RunConfig:
    """Our RunConfig of a released pose model: the architecture, input size, keypoints and metainfo."""
    if entry.kind != "pose":
        raise ValueError(f"{entry.file_name} is a {entry.kind}, not a pose model")
    cfg = rtmpose(entry.size, entry.input_size, num_keypoints=entry.num_keypoints)
    return replace(cfg, data=replace(cfg.data, dataset=entry.keypoints))


def rtmdet_config(entry: ZooEntry):
    """The RTMDetConfig of a released person detector (MMDetection's rtmdet nano / m person configs)."""
    from rtmposelib.detect.rtmdet import RTMDetConfig

    if entry.kind != "detector":
        raise ValueError(f"{entry.file_name} is a {entry.kind}, not a detector")
    if entry.size == "nano":
        return RTMDetConfig()
    # RTMDet-m inherits RTMDet-l's head (shared convs, exp on the regression) at deepen 0.67 / widen 0.75
    return RTMDetConfig(deepen_factor=0.67, widen_factor=0.75, use_depthwise=False, neck_channels=192,
                        num_csp_blocks=2, share_conv=True, exp_on_reg=True, input_size=entry.input_size)
