"""``rtmpose demo`` end to end through the CLI dispatcher."""
from __future__ import annotations

import json

import cv2
import pytest
import torch

from rtmposelib.cli import main
from rtmposelib.data.synth_video import synth_video, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 6-frame, 2-person video and a COCO file whose image ids are the frame indices."""
    root = tmp_path_factory.mktemp("demo")
    frames, truth = synth_video(n_frames=6, n_people=2, seed=5)
    video = write_video(frames, root / "clip.mp4")
    images = [{"id": i, "file_name": f"{i:04d}.png", "width": 640, "height": 480} for i in range(6)]
    anns = [{"id": 100 * i + j, "image_id": i, "category_id": 1, "bbox": [float(v) for v in g["bbox"]],
             "iscrowd": 0, "keypoints": g["keypoints"].reshape(-1).tolist(), "num_keypoints": 17}
            for i, gt in enumerate(truth) for j, g in enumerate(gt)]
    ann = root / "ann.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns,
                               "categories": [{"id": 1, "name": "person"}]}))
    cv2.imwrite(str(root / "0002.png"), frames[2])
    return root, video, ann


class TinySimCC(torch.nn.Module):
    """A small SimCC-shaped model (conv + two linear maps): fast, exports in well under a second."""

    def __init__(self, input_size: tuple[int, int] = (192, 256)) -> None:
        super().__init__()
        w, h = input_size
        self.conv = torch.nn.Conv2d(3, 17, 8, stride=8)
        self.fx = torch.nn.Linear((h // 8) * (w // 8), 2 * w)
        self.fy = torch.nn.Linear((h // 8) * (w // 8), 2 * h)

    def forward(self, x):
        f = self.conv(x).flatten(2)                     # (B, 17, h/8 * w/8)
        return self.fx(f), self.fy(f)


def test_demo_on_video_with_onnx_pose_and_gt_boxes(clip, tmp_path, capsys):
    from rtmposelib.export.onnx import export_onnx

    root, video, ann = clip
    torch.manual_seed(0)
    onnx_path = export_onnx(TinySimCC().eval(), tmp_path / "tiny.onnx", input_size=(192, 256))
    out = tmp_path / "out_video"
    code = main(["demo", str(video), "--pose", str(onnx_path), "--det", f"gt:{ann}", "--det-interval", "3",
                 "--pose-kpt-thr", "-1", "--annotate", "gif", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 6 and metrics["detector_runs"] == 2
    results = json.loads((out / "results.json").read_text())
    assert {r["frame"] for r in results} == set(range(6))     # random weights, but everyone is tracked
    assert (out / "annotated.gif").is_file()
    assert "6 frames (2 detector runs)" in capsys.readouterr().out


def test_demo_on_image_with_preset(clip, tmp_path):
    root, _, ann = clip
    code = main(["demo", str(root / "0002.png"), "--pose", "rtmpose-t", "--det", f"gt:{ann}",
                 "--out", str(tmp_path / "out")])
    assert code == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results) == 2 and all(r["file"] == "0002.png" for r in results)
    assert (tmp_path / "out" / "annotated.png").is_file()


def test_demo_bad_arguments_give_clear_errors(clip, capsys):
    root, video, ann = clip
    assert main(["demo", str(video), "--pose", "rtmpose-t", "--det", "yolo:x.onnx"]) == 2
    assert "--det must be gt:ANN.json" in capsys.readouterr().err
    assert main(["demo", str(video), "--pose", "nope.pth", "--det", f"gt:{ann}"]) == 2
    assert "neither a preset" in capsys.readouterr().err
    assert main(["demo", str(root / "missing.mp4"), "--pose", "rtmpose-t", "--det", f"gt:{ann}",
                 "--out", str(root / "x")]) == 2
    assert "input not found" in capsys.readouterr().err
    (root / "junk.mp4").write_bytes(b"not a video")
    assert main(["demo", str(root / "junk.mp4"), "--pose", "rtmpose-t", "--det", f"gt:{ann}",
                 "--out", str(root / "y")]) == 2
    err = capsys.readouterr().err
    assert "cannot open this video" in err and "no frame of" in err


def test_demo_onnx_takes_its_input_size_and_decoded_files_match_raw(clip, tmp_path, capsys):
    """An .onnx exported at 96 x 128 runs without --preset; --with-decode files give the same poses."""
    from rtmposelib.export.onnx import export_onnx

    root, _, ann = clip
    torch.manual_seed(0)
    model = TinySimCC((96, 128)).eval()
    outputs = {}
    for with_decode in (False, True):
        path = export_onnx(model, tmp_path / f"small{int(with_decode)}.onnx", input_size=(96, 128),
                           with_decode=with_decode)
        out = tmp_path / f"out{int(with_decode)}"
        assert main(["demo", str(root / "0002.png"), "--pose", str(path), "--det", f"gt:{ann}",
                     "--annotate", "none", "--out", str(out)]) == 0
        outputs[with_decode] = json.loads((out / "results.json").read_text())
    assert len(outputs[False]) == 2
    for raw, decoded in zip(outputs[False], outputs[True]):
        assert raw["keypoints"] == pytest.approx(decoded["keypoints"], abs=1e-2)
    assert main(["demo", str(root / "0002.png"), "--pose", str(tmp_path / "small1.onnx"), "--det", f"gt:{ann}",
                 "--flip", "--out", str(tmp_path / "x")]) == 2
    assert "cannot be flip-tested" in capsys.readouterr().err


def test_demo_runs_a_heatmap_onnx_file_with_the_udp_codec(clip, tmp_path):
    """A heatmap (pre-training) model exported to ONNX: the demo picks the UDP codec and the file's
    heatmap size, and finds the same poses as the torch module through the pipeline."""
    from rtmposelib.codecs import UDPHeatmapCodec
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.infer.detector import GroundTruthDetector
    from rtmposelib.infer.topdown import TopdownPipeline

    root, _, ann = clip
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 17, 4, stride=4).eval()            # (B, 17, 32, 24) heatmaps of a 96 x 128 crop
    path = export_onnx(model, tmp_path / "hm.onnx", input_size=(96, 128))
    out = tmp_path / "out"
    assert main(["demo", str(root / "0002.png"), "--pose", str(path), "--det", f"gt:{ann}",
                 "--annotate", "none", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    codec = UDPHeatmapCodec(input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0)
    pipeline = TopdownPipeline(model, GroundTruthDetector(ann), metainfo=get_metainfo("coco"), codec=codec)
    poses = pipeline(cv2.imread(str(root / "0002.png")), key="0002.png")
    expected = poses.to_coco(image_id=0)
    assert len(results) == len(expected) == 2
    for got, ref in zip(results, expected):
        assert got["keypoints_raw"] == pytest.approx(ref["keypoints"], abs=1e-2)
