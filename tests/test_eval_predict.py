"""predict: decode -> image space -> official rescoring, flip-test wiring, on a hand-built dataset."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rtmposelib.codecs import SimCCCodec, UDPHeatmapCodec, flip_back
from rtmposelib.eval.predict import predict, predict_targets, rescore

CODEC = SimCCCodec(input_size=(192, 256), sigma=(4.9, 5.66))


class FixedOutputs(nn.Module):
    """Returns the same outputs for every image of a batch (whatever the image)."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs
        self.calls = 0

    def forward(self, images):
        self.calls += 1
        b = images.shape[0]
        if isinstance(self.outputs, tuple):
            return tuple(torch.from_numpy(o).expand(b, *o.shape[1:]) for o in self.outputs)
        return torch.from_numpy(self.outputs).expand(b, *self.outputs.shape[1:])


def dataset(n: int, codec, crop_kp: np.ndarray) -> list[dict]:
    enc = codec.encode(crop_kp[None], np.ones((1, len(crop_kp))))
    return [{"image": torch.zeros(3, 256, 192), "center": np.array([300.0 + i, 200.0]),
             "box_size": np.array([150.0, 200.0]), "bbox_score": 0.8, "image_id": 7 + i, "id": 100 + i,
             **{k: v[0] for k, v in enc.items()}} for i in range(n)]


def test_rescore_by_hand():
    s = rescore(np.array([0.8, 1.0]), np.array([[0.1, 0.5, 0.9], [0.1, 0.2, 0.0]]))
    np.testing.assert_allclose(s, [0.8 * 0.7, 0.0])


def test_predict_maps_to_image_and_rescores():
    kp = np.array([[0.0, 0.0], [96.0, 128.0], [48.5, 64.0]])
    data = dataset(5, CODEC, kp)
    enc = CODEC.encode(kp[None], np.ones((1, 3)))
    model = FixedOutputs((enc["target_x"], enc["target_y"]))
    results = predict(model, data, codec=CODEC, batch_size=2)
    assert len(results) == 5 and model.calls == 3
    r = results[4]
    assert r["image_id"] == 11 and r["id"] == 104 and r["category_id"] == 1
    k = np.asarray(r["keypoints"]).reshape(3, 3)
    # crop (x, y) -> x / 192 * 150 + 304 - 75, y / 256 * 200 + 200 - 100
    np.testing.assert_allclose(k[:, :2], [[229, 100], [304, 200], [229 + 48.5 * 150 / 192, 150]], atol=1e-4)
    np.testing.assert_allclose(k[:, 2], 1.0)
    assert r["score"] == pytest.approx(0.8) and r["area"] == pytest.approx(150 * 200)
    assert predict_targets(data, codec=CODEC) == results


def test_flip_test_fuses_raw_logits():
    rng = np.random.default_rng(0)
    sx, sy = rng.normal(size=(1, 3, 384)).astype(np.float32), rng.normal(size=(1, 3, 512)).astype(np.float32)
    model = FixedOutputs((sx, sy))
    flip = [0, 2, 1]
    got = predict(model, dataset(1, CODEC, np.zeros((3, 2))), codec=CODEC, flip_indices=flip)
    bx, by = flip_back(sx, sy, flip)
    want_kp, want_s = CODEC.decode(0.5 * (sx + bx), 0.5 * (sy + by))
    k = np.asarray(got[0]["keypoints"]).reshape(3, 3)
    np.testing.assert_allclose(k[:, 2], want_s[0], rtol=1e-6)
    np.testing.assert_allclose(k[:, 0], want_kp[0, :, 0] / 192 * 150 + 225, rtol=1e-6)
    assert model.calls == 2


def test_heatmap_codec_path():
    codec = UDPHeatmapCodec(input_size=(192, 256))
    kp = np.array([[50.0, 60.0], [120.0, 200.0]])
    data = dataset(2, codec, kp)
    res = predict(FixedOutputs(codec.encode(kp[None], np.ones((1, 2)))["heatmaps"]), data, codec=codec,
                  flip_indices=[1, 0])
    assert len(res) == 2 and np.isfinite(res[0]["keypoints"]).all()
    k = np.asarray(predict_targets(data, codec=codec)[0]["keypoints"]).reshape(2, 3)
    np.testing.assert_allclose(k[:, :2], kp / [192, 256] * [150, 200] + [225, 100], atol=0.05)
