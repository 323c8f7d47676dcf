"""evaluate_on_samples: one row per real sample set (model / mapped ground truth / oracle), missing sets
skipped with a reason; keypoint mappings of the ground truth agree with the dataset's own mapping."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from rtmposelib.codecs import SimCCCodec
from rtmposelib.data.coco import TopdownCocoDataset
from rtmposelib.data.combined import AIC_TO_COCO
from rtmposelib.data.metainfo import get_metainfo
from rtmposelib.eval.benchmarks import COLUMNS, CROWDPOSE_TO_COCO, evaluate_on_samples, map_ground_truth
from rtmposelib.eval.evaluate import protocol_for, score_results
from rtmposelib.eval.predict import predict_targets

CODEC = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))


class Flat(nn.Module):
    """Uniform SimCC outputs for 17 keypoints: every decoded keypoint at the crop corner with score 0."""

    def forward(self, images):
        b = images.shape[0]
        return torch.zeros(b, 17, 384), torch.zeros(b, 17, 512)


# AIC: the two ankles of annotation 8 lie outside its padded box (see test_eval_evaluate.py); of the 12
# mapped joints that is 2, so that person's OKS is < 0.84 and AP lands at 0.964
@pytest.mark.parametrize("sub,ann,mapping,min_ap", [("aic", "test_aic.json", AIC_TO_COCO, 0.96),
                                                     ("crowdpose", "test_crowdpose.json", CROWDPOSE_TO_COCO, 0.99)])
def test_mapped_ground_truth_matches_the_mapped_dataset(shared_data, sub, ann, mapping, min_ap):
    coco = get_metainfo("coco")
    ds = TopdownCocoDataset(ann_file=shared_data / sub / ann, image_dir=shared_data / sub, metainfo=coco,
                            codec=CODEC, input_size=(192, 256), keypoint_mapping=mapping)
    gt = map_ground_truth(shared_data / sub / ann, mapping, coco.keypoint_names)
    kept = {inst.id: inst for inst in ds.instances}
    for a in gt["annotations"]:                          # the json mapping equals the dataset's
        if a["id"] in kept:
            raw = np.asarray(a["keypoints"]).reshape(17, 3)
            np.testing.assert_array_equal(raw[:, 2] > 0, kept[a["id"]].visible > 0)
            assert (raw[:5, 2] == 0).all()               # no face points in either source
    m = score_results(ds, predict_targets(ds, codec=CODEC), ground_truth=gt, protocol=protocol_for(sub))
    assert m["AP"] >= min_ap and len(m["per_keypoint"]) == 17
    assert ("AP(M)" in m) == (sub == "crowdpose")        # the source set's protocol is kept


def test_rows_predictors_and_reasons(shared_data, tmp_path):
    root = tmp_path / "samples"
    root.mkdir()
    for sub in ("coco", "mpii", "aic"):                  # crowdpose and ap10k are absent
        (root / sub).symlink_to(shared_data / sub, target_is_directory=True)
    df = evaluate_on_samples(Flat(), root=root, flip_test=False)
    assert list(df.columns) == COLUMNS
    rows = df.set_index("dataset")
    assert list(rows.index) == ["coco", "coco (detector boxes)", "crowdpose", "ap10k", "aic", "mpii"]
    assert rows.loc["crowdpose", "reason"] == "not present under the root: crowdpose/test_crowdpose.json"
    assert rows.loc["ap10k", "reason"].startswith("not present") and np.isnan(rows.loc["ap10k", "value"])
    assert rows.loc["coco", "predictor"] == "model" and rows.loc["coco", "value"] == 0.0   # flat outputs: AP 0
    det = rows.loc["coco (detector boxes)"]
    n_dets = len(json.loads((shared_data / "coco" / "test_coco_det_AP_H_56.json").read_text()))
    assert det["boxes"] == "detector" and det["num_instances"] == n_dets
    assert rows.loc["aic", "predictor"] == "model (gt aic->coco)" and rows.loc["aic", "metric"] == "AP"
    mpii = rows.loc["mpii"]
    assert mpii["predictor"] == "oracle" and mpii["metric"] == "PCKh" and mpii["value"] == pytest.approx(100.0)
    assert json.loads(mpii["details"])["head_size_source"] == "keypoints"
    assert json.loads(rows.loc["coco", "skipped"]) == {"no_keypoints": 2}
