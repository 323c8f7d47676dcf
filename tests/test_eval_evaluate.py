"""evaluate(): the official val protocol end to end on SynthPose smoke (targets-as-outputs oracle, and a
real RTMPose-t forward with the flip test)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from rtmposelib.codecs import build_codec
from rtmposelib.config import preset
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.data.synthetic import make_synthpose
from rtmposelib.eval.evaluate import evaluate

CFG = replace(preset("rtmpose-t"), flip_test=False)


@pytest.fixture(scope="module")
def val_dataset():
    root = make_synthpose("smoke")
    return TopdownCocoDataset(ann_file=root / "annotations/person_keypoints_val2017.json",
                              image_dir=root / "val2017", metainfo=get_metainfo("coco"),
                              codec=build_codec(CFG.codec), input_size=CFG.codec.input_size)


class Oracle(nn.Module):
    """Replays the dataset's encoded targets in order, as if it had predicted them."""

    def __init__(self, dataset):
        super().__init__()
        self.targets = [dataset[i] for i in range(len(dataset))]
        self.pos = 0

    def forward(self, images):
        items = self.targets[self.pos:self.pos + len(images)]
        self.pos += len(images)
        return (torch.from_numpy(np.stack([t["target_x"] for t in items])),
                torch.from_numpy(np.stack([t["target_y"] for t in items])))


def test_oracle_scores_ap_099(val_dataset):
    oracle = Oracle(val_dataset)
    m = evaluate(oracle, CFG, datasets=(None, val_dataset), batch_size=16)
    assert m["AP"] >= 0.99 and m["num_instances"] == len(val_dataset) and m["flip_test"] is False
    assert len(m["per_keypoint"]) == 17 and m["per_keypoint"]["mean_similarity"].min() > 0.9
    assert isinstance(m["skipped"], dict)


class FirstItems(list):
    """The first few items of a dataset, with the attributes evaluate() reads (keeps the test fast)."""

    def __init__(self, dataset, n):
        super().__init__(dataset[i] for i in range(n))
        self.ann_file, self.metainfo, self.skipped = dataset.ann_file, dataset.metainfo, dataset.skipped


def test_real_model_with_flip(val_dataset):
    from rtmposelib.models.pose_model import build_model
    torch.manual_seed(0)
    model = build_model(CFG.model).train()
    m = evaluate(model, CFG, datasets=(None, FirstItems(val_dataset, 4)), flip_test=True, batch_size=4)
    assert m["num_results"] == 4
    assert model.training                                       # mode restored
    assert m["flip_test"] is True and 0.0 <= m["AP"] < 0.5      # untrained: low, but a valid number
    with pytest.raises(ValueError, match="split"):
        evaluate(model, CFG, split="test", datasets=(None, val_dataset))


# ---- other datasets, the detector-box protocol and MPII PCKh on the real samples ----

import json  # noqa: E402

from rtmposelib.codecs import SimCCCodec, image_to_crop  # noqa: E402
from rtmposelib.config import DataConfig  # noqa: E402
from rtmposelib.data.bbox import fix_aspect_ratio  # noqa: E402
from rtmposelib.data.mpii import TopdownMpiiDataset  # noqa: E402
from rtmposelib.eval.evaluate import protocol_for, score_results  # noqa: E402
from rtmposelib.eval.predict import predict_targets  # noqa: E402

CODEC = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))

# (sample dir, annotation, metainfo, minimum AP of the targets-as-predictions oracle)
SETS = [("coco", "test_coco.json", "coco", 0.99), ("crowdpose", "test_crowdpose.json", "crowdpose", 0.99),
        ("ap10k", "test_ap10k.json", "ap10k", 0.99),
        # AIC annotation 8 has both ankles ~80 px below its box, outside the padded crop: no target, so
        # that person's OKS is 0.85 and AP stays below 1 -- a property of GT-box top-down, not a bug
        ("aic", "test_aic.json", "aic", 0.97)]


@pytest.mark.parametrize("sub,ann,meta,min_ap", SETS, ids=[s[0] for s in SETS])
def test_each_sample_set_evaluates_with_its_protocol(shared_data, sub, ann, meta, min_ap):
    ds = TopdownCocoDataset(ann_file=shared_data / sub / ann, image_dir=shared_data / sub,
                            metainfo=get_metainfo(meta), codec=CODEC, input_size=(192, 256))
    m = score_results(ds, predict_targets(ds, codec=CODEC))
    assert m["metric"] == "AP" and m["AP"] >= min_ap and m["AP50"] == pytest.approx(1.0)
    assert len(m["per_keypoint"]) == get_metainfo(meta).num_keypoints
    if meta == "crowdpose":                    # both sample images have crowdIndex 0.33 / 0.39: "medium"
        assert m["AP(M)"] == pytest.approx(m["AP"]) and np.isnan(m["AP(E)"]) and np.isnan(m["AP(H)"])
    if meta == "ap10k":                        # each species is its own category, as MMPose
        data = json.loads((shared_data / sub / ann).read_text())
        assert {a["category_id"] for a in data["annotations"]} == {1, 26}
        ds_results = predict_targets(ds, codec=CODEC)
        wrong = [dict(r, category_id=1) for r in ds_results]           # all scored as category 1
        assert score_results(ds, wrong)["AP"] >= min_ap              # categories are re-read from the gt
    assert protocol_for(meta).use_area == (meta not in ("crowdpose", "aic"))


def _sample_root(tmp, src_dir, ann_name, *, ann_dir="annotations", images=("train2017", "val2017"),
                 names=("person_keypoints_train2017.json", "person_keypoints_val2017.json")):
    (tmp / ann_dir).mkdir(parents=True)
    for image_dir, name in zip(images, names):
        (tmp / ann_dir / name).symlink_to(src_dir / ann_name)
        if not (tmp / image_dir).exists():
            (tmp / image_dir).symlink_to(src_dir, target_is_directory=True)
    return tmp


class Replay(nn.Module):
    """Returns precomputed (simcc_x, simcc_y) batches in order (flip test off)."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs, self.pos = outputs, 0

    def forward(self, images):
        x, y = self.outputs
        out = x[self.pos:self.pos + len(images)], y[self.pos:self.pos + len(images)]
        self.pos += len(images)
        return torch.from_numpy(out[0]), torch.from_numpy(out[1])


def _gt_in_detection_crops(dataset, ann_file):
    """For each detector box, the best-overlapping ground-truth person encoded in that box's crop."""
    anns = [a for a in json.loads(ann_file.read_text())["annotations"] if a["num_keypoints"] > 0]
    xs, ys = [], []
    for inst in dataset.instances:
        x0, y0 = inst.center - inst.box_size / 2
        x1, y1 = inst.center + inst.box_size / 2

        def iou(a, x0=x0, y0=y0, x1=x1, y1=y1):
            bx, by, bw, bh = a["bbox"]
            w = max(0.0, min(x1, bx + bw) - max(x0, bx))
            h = max(0.0, min(y1, by + bh) - max(y0, by))
            return w * h / ((x1 - x0) * (y1 - y0) + bw * bh - w * h)

        same = [a for a in anns if a["image_id"] == inst.image_id]
        best = max(same, key=iou) if same else None
        if best is None or iou(best) < 0.3:
            kp, vis = np.zeros((17, 2)), np.zeros(17)
        else:
            raw = np.asarray(best["keypoints"], np.float64).reshape(17, 3)
            box_size = fix_aspect_ratio(inst.box_size * 1.25, 192 / 256)           # as the val-time crop
            kp = image_to_crop(raw[None, :, :2], inst.center, box_size, (192, 256))[0]
            vis = (raw[:, 2] > 0).astype(np.float32)
        t = CODEC.encode(kp[None], vis[None])
        xs.append(t["target_x"][0])
        ys.append(t["target_y"][0])
    return np.stack(xs), np.stack(ys)


def test_detector_box_protocol_with_score_threshold(shared_data, tmp_path):
    root = _sample_root(tmp_path, shared_data / "coco", "test_coco.json")
    det_file = shared_data / "coco" / "test_coco_det_AP_H_56.json"
    dets = json.loads(det_file.read_text())
    cfg = replace(CFG, data=DataConfig(source=str(root), val_bbox_file=str(det_file), det_score_thr=0.3))
    datasets = build_datasets_for(cfg)
    val = datasets[1]
    kept = sum(d["score"] >= 0.3 for d in dets)
    assert len(val) == kept and val.skipped["detection_below_score_thr"] == len(dets) - kept
    model = Replay(_gt_in_detection_crops(val, shared_data / "coco" / "test_coco.json"))
    m = evaluate(model, cfg, datasets=datasets, flip_test=False, batch_size=16)
    print(f"detector-box oracle: AP {m['AP']:.4f}, {m['num_results']} results after NMS of {kept}")
    assert m["num_instances"] == kept and m["skipped"] == {"detection_below_score_thr": len(dets) - kept}
    # duplicates of a person are removed by OKS-NMS, boxes on nobody score 0 after rescoring
    assert m["num_results"] < kept and m["AP"] >= 0.9


def build_datasets_for(cfg):
    from rtmposelib.data.sources import build_datasets
    return build_datasets(cfg)


def test_mpii_pckh_end_to_end(shared_data, tmp_path):
    root = _sample_root(tmp_path, shared_data / "mpii", "test_mpii.json", images=("images", "images"),
                        names=("mpii_train.json", "mpii_val.json"))
    boxes = [[0.0, 0.0, 60.0, 80.0]] * 5                                  # head size 0.6 x 100 = 60 px
    (root / "annotations" / "heads.json").write_text(json.dumps(boxes))
    size = (256, 256)
    cfg = preset("rtmpose-m")
    cfg = replace(cfg, model=replace(cfg.model, input_size=size, num_keypoints=16),
                  codec=replace(cfg.codec, input_size=size, sigma=(5.66, 5.66)), flip_test=False,
                  data=DataConfig(source=str(root), dataset="mpii", train_ann="annotations/mpii_train.json",
                                  train_images="images", val_ann="annotations/mpii_val.json", val_images="images",
                                  val_headbox_file="annotations/heads.json"))
    train, val = build_datasets_for(cfg)
    assert isinstance(val, TopdownMpiiDataset) and val.head_size_source == "headbox_file"
    assert train.augment is not None and val.augment is None
    np.testing.assert_allclose(val.head_sizes, 60.0)
    codec = build_codec(cfg.codec)
    targets = [val[i] for i in range(len(val))]
    outputs = (np.stack([t["target_x"] for t in targets]), np.stack([t["target_y"] for t in targets]))
    m = evaluate(Replay(outputs), cfg, datasets=(train, val))
    assert m["metric"] == "PCKh" and m["head_size_source"] == "headbox_file"
    assert m["PCKh"] == pytest.approx(100.0) and m["PCKh@0.1"] == pytest.approx(100.0)
    assert list(m["per_keypoint"].columns) == ["keypoint", "visible", "PCKh", "PCKh@0.1"]
    # shift every decoded wrist by 40 px (> 0.5 x 60 = 30 px): Wrist drops to 0, the rest stays
    results = predict_targets(val, codec=codec)
    for r in results:
        k = np.asarray(r["keypoints"]).reshape(16, 3)
        k[[10, 15], 0] += 40.0
        r["keypoints"] = k.reshape(-1).tolist()
    m = score_results(val, results)
    assert m["Wrist"] == 0.0 and m["Elbow"] == pytest.approx(100.0)
    visible = m["per_keypoint"]["visible"].to_numpy()
    counted = visible.sum() - visible[[6, 7]].sum()                         # pelvis, thorax left out
    assert m["PCKh"] == pytest.approx(100 * (counted - visible[[10, 15]].sum()) / counted)
