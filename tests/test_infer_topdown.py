"""TopdownPipeline: crop -> batched forward -> decode -> image space -> rescore -> OKS-NMS."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rtmposelib.codecs import SimCCCodec
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.preprocess import normalize_images
from rtmposelib.infer.detector import CallableDetector
from rtmposelib.infer.topdown import Poses, TopdownPipeline, rescore

INPUT = (192, 256)
COCO = get_metainfo("coco")


def codec() -> SimCCCodec:
    return SimCCCodec(input_size=INPUT, sigma=(4.9, 5.66))


class BrightSpot(torch.nn.Module):
    """Oracle SimCC 'model': every keypoint at the brightest pixel of the crop, Gaussian logits."""

    def forward(self, x):
        b, _, h, w = x.shape
        flat = x.sum(1).reshape(b, -1).argmax(-1)
        ys, xs = (flat // w).float(), (flat % w).float()
        bx, by = torch.arange(2 * w).float(), torch.arange(2 * h).float()
        sx = torch.exp(-(bx[None] - 2 * xs[:, None]) ** 2 / 8)[:, None].repeat(1, 17, 1)
        sy = torch.exp(-(by[None] - 2 * ys[:, None]) ** 2 / 8)[:, None].repeat(1, 17, 1)
        return sx * 0.9, sy * 0.8


def spots_image(points, size=(640, 480)) -> np.ndarray:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    for x, y in points:
        image[y - 1:y + 2, x - 1:x + 2] = 255
    return image


def test_keypoints_back_in_image_pixels_with_rescoring():
    image = spots_image([(100, 200), (400, 300)])
    boxes = np.array([[60, 120, 160, 280], [350, 250, 470, 400]], np.float32)
    pipe = TopdownPipeline(BrightSpot(), metainfo=COCO, codec=codec(), pose_nms_thr=None)
    poses = pipe.estimate(image, boxes, np.array([0.5, 1.0]))
    assert isinstance(poses, Poses) and len(poses) == 2
    # the spot centre, up to the crop's pixel grid (box 100x160 px -> ~0.52 px per crop px)
    np.testing.assert_allclose(poses.keypoints[0], np.tile([100, 200], (17, 1)), atol=1.0)
    np.testing.assert_allclose(poses.keypoints[1], np.tile([400, 300], (17, 1)), atol=1.0)
    np.testing.assert_allclose(poses.keypoint_scores, 0.8, rtol=1e-5)        # min of the two maxima
    np.testing.assert_allclose(poses.scores, [0.4, 0.8], rtol=1e-5)           # box x mean kpt score
    # padded (1.25) and aspect-fixed (w/h = 0.75) box: 100x160 -> 125x200 -> 150x200
    np.testing.assert_allclose(poses.box_sizes[0], [150, 200])
    assert poses.areas[0] == pytest.approx(150 * 200)
    assert pipe.timings["pose"] > 0


def test_flip_test_reverses_bins_and_averages():
    image = spots_image([(101, 203)])
    boxes = np.array([[41, 103, 161, 303]], np.float32)
    plain = TopdownPipeline(BrightSpot(), metainfo=COCO, codec=codec()).estimate(image, boxes)
    flipped = TopdownPipeline(BrightSpot(), metainfo=COCO, codec=codec(), flip_test=True).estimate(image, boxes)
    # the reversed bin is half a crop pixel off (official): within one crop pixel of the plain result
    np.testing.assert_allclose(flipped.keypoints, plain.keypoints, atol=200 / 256 + 1e-3)
    # the two passes' peaks do not coincide exactly, so the averaged maximum drops below the plain one
    assert np.all((flipped.keypoint_scores > 0.3) & (flipped.keypoint_scores < plain.keypoint_scores))


def test_rescore_hand_computed():
    scores = np.array([[0.1, 0.3, 0.5], [0.1, 0.2, 0.0]])
    np.testing.assert_allclose(rescore(np.array([0.5, 1.0]), scores), [0.5 * 0.4, 0.0])


def test_oks_nms_drops_duplicate_boxes_and_detector_call():
    image = spots_image([(100, 200), (400, 300)])
    boxes = np.array([[60, 120, 160, 280], [62, 121, 161, 282], [350, 250, 470, 400]], np.float32)
    det = CallableDetector(lambda img: (boxes, np.array([0.9, 0.8, 0.7])))
    pipe = TopdownPipeline(BrightSpot(), det, metainfo=COCO, codec=codec(), pose_nms_thr=0.9)
    poses = pipe(image)
    assert len(poses) == 2
    np.testing.assert_allclose(poses.box_scores, [0.9, 0.7])
    assert pipe.timings["detector"] > 0
    results = poses.to_coco(image_id=5)
    assert len(results) == 2 and len(results[0]["keypoints"]) == 17 * 3 and results[0]["image_id"] == 5


def test_empty_and_bad_boxes():
    pipe = TopdownPipeline(BrightSpot(), metainfo=COCO, codec=codec())
    empty = pipe.estimate(spots_image([]), np.zeros((0, 4)))
    assert len(empty) == 0 and empty.keypoints.shape == (0, 17, 2) and empty.to_coco(1) == []
    with pytest.raises(ValueError, match=r"boxes \[1\] have zero or negative area"):
        pipe.estimate(spots_image([]), np.array([[0, 0, 10, 10], [5, 5, 5, 20]]))
    with pytest.raises(ValueError, match="no detector"):
        pipe(spots_image([]))


class TinySimCC(torch.nn.Module):
    """A small SimCC-shaped model (conv + two linear maps) that exports in well under a second."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 17, 8, stride=8)
        self.fx = torch.nn.Linear(32 * 24, 2 * INPUT[0])
        self.fy = torch.nn.Linear(32 * 24, 2 * INPUT[1])

    def forward(self, x):
        f = self.conv(x).flatten(2)                     # (B, 17, 32*24)
        return self.fx(f), self.fy(f)


def test_torch_and_onnx_pose_give_the_same_poses(tmp_path):
    from rtmposelib.export.onnx import export_onnx

    torch.manual_seed(0)
    model = TinySimCC().eval()
    path = export_onnx(model, tmp_path / "tiny.onnx", input_size=INPUT)
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 120, 200], [150, 30, 300, 230]], np.float32)
    a = TopdownPipeline(model, metainfo=COCO, codec=codec(), flip_test=True).estimate(image, boxes, nms=False)
    b = TopdownPipeline(str(path), metainfo=COCO, codec=codec(), flip_test=True).estimate(image, boxes,
                                                                                           nms=False)
    np.testing.assert_allclose(a.keypoint_scores, b.keypoint_scores, atol=1e-4)
    agree = np.linalg.norm(a.keypoints - b.keypoints, axis=-1) < 1e-3
    assert agree.mean() > 0.95          # argmax ties may flip on float noise


class CropOracle(torch.nn.Module):
    """Returns the encoded SimCC targets of crops it has seen in the evaluation dataset (and their
    flip-backed version for the flipped crops), so a correct pipeline scores near-perfect AP."""

    def __init__(self, dataset, flip_indices) -> None:
        super().__init__()
        from rtmposelib.codecs import flip_back

        self.table = {}
        for i in range(len(dataset)):
            item = dataset[i]
            crop = normalize_images(item["image"]).numpy()            # what the pipeline feeds the model
            tx, ty = item["target_x"][None], item["target_y"][None]
            self.table[self.key(crop)] = (tx[0], ty[0])
            fx, fy = flip_back(tx, ty, flip_indices)
            self.table[self.key(crop[..., ::-1])] = (fx[0], fy[0])
        self.bins = (tx.shape[-1], ty.shape[-1])
        self.misses = 0

    @staticmethod
    def key(crop: np.ndarray) -> bytes:
        return np.round(crop, 2).astype(np.float32).tobytes()

    def forward(self, x):
        xs, ys = [], []
        for crop in x.numpy():
            hit = self.table.get(self.key(crop))
            self.misses += hit is None
            tx, ty = hit if hit is not None else (np.zeros((17, self.bins[0]), np.float32),
                                                  np.zeros((17, self.bins[1]), np.float32))
            xs.append(tx), ys.append(ty)
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


@pytest.mark.parametrize("flip", [False, True])
def test_gt_box_pipeline_ap_equals_evaluation_path(flip):
    """SynthPose smoke val with GT boxes: the image pipeline's COCO results give the same AP as
    rtmposelib.eval.evaluate on the dataset (crops, decode, image mapping, rescoring, OKS-NMS)."""
    import cv2

    from rtmposelib.codecs import build_codec
    from rtmposelib.config import preset
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.eval.coco_eval import coco_keypoint_eval
    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.infer.detector import GroundTruthDetector

    cfg = preset("rtmpose-t")
    datasets = build_datasets(cfg)
    val = datasets[1]
    oracle = CropOracle(val, COCO.flip_indices)
    reference = evaluate(oracle, cfg, flip_test=flip, datasets=datasets)
    pipe = TopdownPipeline(oracle, GroundTruthDetector(val.ann_file), metainfo=COCO,
                           codec=build_codec(cfg.codec), flip_test=flip, pose_nms_thr=0.9)
    oracle.misses = 0
    results = []
    image_ids = list(dict.fromkeys(inst.image_id for inst in val.instances))   # dataset order (score ties)
    for image_id in image_ids:
        path = next(inst.image_path for inst in val.instances if inst.image_id == image_id)
        results += pipe(cv2.imread(str(path)), key=image_id).to_coco(image_id)
    assert oracle.misses == 0                                # every pipeline crop equals a dataset crop
    ours = coco_keypoint_eval(val.ann_file, results, sigmas=COCO.sigmas)
    assert reference["AP"] > 0.8
    for name in ("AP", "AP50", "AP75", "AR"):
        assert ours[name] == pytest.approx(reference[name], abs=1e-9), name
