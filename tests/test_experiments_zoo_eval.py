"""zoo_eval end to end on a COCO-layout tree built from SynthPose, the model named only by its zoo name and
fetched from a release host on 127.0.0.1."""
from __future__ import annotations

import json
import shutil

import pytest
import torch
from zoo_server import ReleaseHost, hosted, publish

from rtmposelib.experiments import zoo_eval
from rtmposelib.zoo.registry import ZOO, pose_run_config


@pytest.fixture(scope="module")
def coco_tree(tmp_path_factory):
    """data/coco with val2017, its keypoint file and the detection file, from SynthPose smoke."""
    from rtmposelib.data.synthetic import make_synthpose

    synth = make_synthpose("smoke")
    root = tmp_path_factory.mktemp("data")
    coco = root / "coco"
    (coco / "annotations").mkdir(parents=True)
    shutil.copytree(synth / "val2017", coco / "val2017")
    shutil.copy(synth / "annotations" / "person_keypoints_val2017.json", coco / "annotations")
    (coco / "person_detection_results").mkdir()
    shutil.copy(synth / "annotations" / "person_detection_results_val2017.json", coco / zoo_eval.COCO_DET)
    return root


@pytest.fixture
def release_t(tmp_path, monkeypatch):
    """RTMPose-t weights (random, official key names) published under the name rtmpose-t."""
    from rtmposelib.models.mmpose_checkpoint import export_mmpose_state_dict
    from rtmposelib.models.pose_model import build_model

    folder = tmp_path / "release"
    folder.mkdir()
    torch.manual_seed(0)
    model = build_model(pose_run_config(ZOO["rtmpose-t"]).model)
    name, sha = publish(export_mmpose_state_dict(model), folder, "rtmpose-t_zoo_eval")
    with ReleaseHost(folder) as host:
        monkeypatch.setenv("RTMPOSE_ZOO_URL", host.url)
        monkeypatch.setenv("RTMPOSE_HOME", str(tmp_path / "home"))
        monkeypatch.setitem(ZOO, "rtmpose-t", hosted(ZOO["rtmpose-t"], name, sha))
        yield host


@pytest.mark.slow
def test_zoo_eval_end_to_end_and_resumes_per_image(coco_tree, release_t, tmp_path):
    out = tmp_path / "run"
    frame = zoo_eval.zoo_eval_frame(coco_tree, out, models=("rtmpose-t", "rtmpose-m-crowdpose"), batch_size=8,
                                    progress=False)
    done = frame[frame["reason"] == ""]
    assert set(done["benchmark"]) == {"coco-gt", "coco-det"} and len(done) == 4       # x flip on / off
    assert done["ours"].between(0, 100).all() and (done["instances"] > 0).all()
    assert (done["ms_per_crop"] > 0).all()
    det_flip = done[(done["benchmark"] == "coco-det") & done["flip_test"]].iloc[0]
    assert det_flip["published"] == 68.5                                     # the release's number
    table4 = done[(done["benchmark"] == "coco-det") & ~done["flip_test"]].iloc[0]
    assert table4["paper_table"] == "4" and table4["paper"] == 67.1
    missing = frame[frame["reason"] != ""]
    assert list(missing["model"]) == ["rtmpose-m-crowdpose"]
    assert "mmpose_crowdpose_test.json" in missing["reason"].iloc[0]
    assert zoo_eval.paper_columns(frame)["4"]["row"].tolist() == ["RTMPose-t / Faster-RCNN / AIC+COCO"]

    # resume: drop the last image of one log; a rerun predicts only that image and scores the same
    log = out / "predictions" / "coco-gt__rtmpose-t.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])          # a cut line, as after a kill
    again = zoo_eval.zoo_eval_frame(coco_tree, out, models=("rtmpose-t",), benchmarks=("coco-gt",), progress=False)
    assert again["images_run"].tolist() == [1, 1]
    before = done[done["benchmark"] == "coco-gt"]["ours"].tolist()
    assert again["ours"].tolist() == pytest.approx(before, abs=1e-9)
    assert json.loads(log.read_text().splitlines()[-1])["image_id"] >= 0
