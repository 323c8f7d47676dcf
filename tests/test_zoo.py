"""The model zoo: registry facts, checked downloads from a release host on 127.0.0.1, zoo:NAME everywhere."""
from __future__ import annotations

import json
import re

import pytest
import torch
from zoo_server import ReleaseHost, hosted, publish, sdk_zip

from rtmposelib.cli import main
from rtmposelib.zoo import download as dl
from rtmposelib.zoo.registry import ZOO, get_entry, pose_run_config, release_url, rtmdet_config


class TinySimCC(torch.nn.Module):
    """A SimCC-shaped stand-in for the SDK archive's ONNX file (exports in well under a second)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 17, 16, stride=16)
        self.fx, self.fy = torch.nn.Linear(192, 384), torch.nn.Linear(192, 512)

    def forward(self, x):
        f = self.conv(x).flatten(2)                     # (B, 17, 16 * 12)
        return self.fx(f), self.fy(f)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Our exporters' files in the official formats: an RTMDet-nano (MMDetection keys), an RTMPose-t (MMPose
    keys) and an ONNX SDK zip of a tiny pose model."""
    from rtmposelib.detect.mmdet_checkpoint import export_mmdet_state_dict
    from rtmposelib.detect.rtmdet import build_rtmdet_nano
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.models.mmpose_checkpoint import export_mmpose_state_dict
    from rtmposelib.models.pose_model import build_model

    folder = tmp_path_factory.mktemp("release")
    torch.manual_seed(0)
    det = publish(export_mmdet_state_dict(build_rtmdet_nano()), folder, "rtmdet_nano_test")
    pose_model = build_model(pose_run_config(ZOO["rtmpose-t"]).model).eval()
    pose = publish(export_mmpose_state_dict(pose_model), folder, "rtmpose-t_test")
    onnx = export_onnx(TinySimCC(), folder / "pose.onnx", input_size=(192, 256))
    zip_name = sdk_zip(onnx, folder, "rtmpose-t_test_sdk")
    return folder, det, pose, zip_name


@pytest.fixture
def host(release, tmp_path, monkeypatch):
    folder = release[0]
    with ReleaseHost(folder) as server:
        monkeypatch.setenv("RTMPOSE_ZOO_URL", server.url)
        monkeypatch.setenv("RTMPOSE_HOME", str(tmp_path / "home"))
        yield server


def test_registry_names_every_release_with_its_hash_and_published_accuracy():
    assert {"rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-l", "rtmpose-m-384x288", "rtmpose-l-384x288",
            "rtmpose-m-body7", "rtmpose-l-384x288-body7", "rtmpose-m-wholebody", "rtmdet-nano",
            "rtmdet-m"} <= set(ZOO)
    for name, e in ZOO.items():
        assert re.fullmatch(r"[0-9a-f]{8}", e.sha256) and f"-{e.sha256}" in e.file_name, name
        assert e.url.startswith("https://download.openmmlab.com/") and e.url.endswith(".pth")
        assert e.onnx_url is None or (e.onnx_url.endswith(".zip") and e.sha256 in e.onnx_url)
        assert 0 < e.published < 100
    assert ZOO["rtmpose-m"].published == 75.8 and ZOO["rtmdet-nano"].published == 40.3
    assert {f"cspnext-{s}-imagenet" for s in "tsmlx"} <= set(ZOO)
    assert pose_run_config(ZOO["rtmpose-m-mpii"]).model.input_size == (256, 256)
    assert pose_run_config(ZOO["rtmpose-l-wholebody-384x288"]).model.num_keypoints == 133


def test_rtmdet_m_config_has_the_released_parameter_count():
    from rtmposelib.detect.rtmdet import build_rtmdet

    n = sum(p.numel() for p in build_rtmdet(rtmdet_config(ZOO["rtmdet-m"])).parameters())
    assert round(n / 1e6, 2) == 24.66


def test_zoo_list_prints_every_entry_with_its_published_ap(capsys):
    assert main(["zoo", "list"]) == 0
    out = capsys.readouterr().out
    for name, e in ZOO.items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert f"{e.published:.1f}" in line


def test_unknown_name_suggests_the_closest(capsys):
    with pytest.raises(ValueError, match="did you mean rtmpose-m"):
        get_entry("rtmpose-mm")
    assert main(["demo", "x.mp4", "--pose", "zoo:rtmpose-mx", "--det", "gt:a.json"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RTMPOSE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dl.cache_dir() == tmp_path / "xdg" / "rtmposelib"
    monkeypatch.setenv("RTMPOSE_HOME", str(tmp_path / "home"))
    assert dl.zoo_dir() == tmp_path / "home" / "zoo"
    monkeypatch.setenv("RTMPOSE_ZOO_URL", "http://mirror:1/")
    assert release_url(ZOO["rtmpose-m"].url).startswith("http://mirror:1/mmpose/v1/")


def test_download_with_progress_and_cache_hit(host, release, tmp_path, capsys):
    _, det, _, _ = release
    entry = hosted(ZOO["rtmdet-nano"], *det)
    path = dl.fetch_entry(entry)
    assert path == dl.zoo_dir() / det[0] and path.is_file()
    assert "rtmdet_nano_test" in capsys.readouterr().err          # the tqdm bar, on stderr
    n = len(host.requests)
    assert dl.fetch_entry(entry) == path and len(host.requests) == n       # cached: no second request
    assert not list(dl.zoo_dir().glob("*.part"))


def test_wrong_hash_raises_and_leaves_no_file(host, release):
    _, det, _, _ = release
    entry = hosted(ZOO["rtmdet-nano"], det[0], "00000000")
    with pytest.raises(ValueError, match="expected a hash starting 00000000"):
        dl.fetch_entry(entry)
    assert not any(dl.zoo_dir().iterdir())


def test_html_error_page_is_refused(host, release):
    _, det, _, _ = release
    host.faults[det[0]] = "html"
    with pytest.raises(ValueError, match="HTML page"):
        dl.fetch_entry(hosted(ZOO["rtmdet-nano"], *det))
    assert not any(dl.zoo_dir().iterdir())


def test_truncated_body_is_an_interruption_and_never_cached(host, release):
    _, det, _, _ = release
    host.faults[det[0]] = "truncate"
    with pytest.raises(ConnectionError, match="interrupted"):
        dl.fetch_entry(hosted(ZOO["rtmdet-nano"], *det))
    assert not (dl.zoo_dir() / det[0]).exists()


def test_truncated_file_placed_by_hand_is_detected(host, release, tmp_path):
    folder, det, _, _ = release
    dl.zoo_dir().mkdir(parents=True)
    data = (folder / det[0]).read_bytes()
    (dl.zoo_dir() / det[0]).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        dl.fetch_entry(hosted(ZOO["rtmdet-nano"], *det))
    assert not (dl.zoo_dir() / det[0]).exists()


def test_interrupted_download_resumes_with_a_range_request(host, release):
    folder, det, _, _ = release
    host.faults[det[0]] = "drop_once"
    entry = hosted(ZOO["rtmdet-nano"], *det)
    with pytest.raises(ConnectionError, match="run again to resume"):
        dl.fetch_entry(entry)
    part = dl.zoo_dir() / (det[0] + ".part")
    assert 0 < part.stat().st_size < (folder / det[0]).stat().st_size
    offset = part.stat().st_size
    path = dl.fetch_entry(entry)
    assert host.requests[-1] == (det[0], f"bytes={offset}-")
    assert path.read_bytes() == (folder / det[0]).read_bytes() and not part.exists()


def test_offline_error_names_the_url_and_the_hand_placed_path(monkeypatch, tmp_path):
    monkeypatch.setenv("RTMPOSE_HOME", str(tmp_path))
    monkeypatch.setenv("RTMPOSE_ZOO_URL", "http://127.0.0.1:9")          # nothing listens on port 9
    with pytest.raises(FileNotFoundError) as err:
        dl.fetch_entry(ZOO["rtmpose-m"], progress=False)
    message = str(err.value)
    assert "http://127.0.0.1:9/mmpose/v1/projects/rtmposev1/" in message
    assert str(tmp_path / "zoo" / ZOO["rtmpose-m"].file_name) in message


def test_sdk_zip_gives_its_end2end_onnx(host, release):
    _, _, pose, zip_name = release
    entry = hosted(ZOO["rtmpose-t-body7"], *pose, onnx_url=f"{hosted(ZOO['rtmpose-t'], zip_name, '').url}")
    onnx = dl.fetch_entry(entry, onnx=True)
    assert onnx.name == "end2end.onnx" and onnx.parent.name == "rtmpose-t_test_sdk"
    from rtmposelib.export.ort_runner import onnx_input_size
    assert onnx_input_size(onnx) == (192, 256)


@pytest.mark.slow
def test_demo_runs_from_model_names_alone(host, release, tmp_path, monkeypatch, capsys):
    """`rtmpose demo video.mp4` with no other argument: both models come from the (loopback) release host."""
    from rtmposelib.data.synth_video import synth_video, write_video

    _, det, pose, _ = release
    monkeypatch.setitem(ZOO, "rtmdet-nano", hosted(ZOO["rtmdet-nano"], *det))
    monkeypatch.setitem(ZOO, "rtmpose-m", hosted(ZOO["rtmpose-m"], *pose, size="t"))   # small stand-in
    frames, _ = synth_video(n_frames=6, n_people=1, seed=3)
    video = write_video(frames, tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", str(video)]) == 0
    metrics = json.loads((tmp_path / "demo_out" / "metrics.json").read_text())
    assert metrics["frames"] == 6 and metrics["detector_runs"] == 2         # skip-frame: every 5th frame
    assert (tmp_path / "demo_out" / "annotated.mp4").is_file()
    assert {r[0] for r in host.requests} == {det[0], pose[0]}


@pytest.mark.slow
def test_eval_and_export_accept_zoo_names(host, release, tmp_path, monkeypatch):
    _, _, pose, _ = release
    monkeypatch.setitem(ZOO, "rtmpose-t", hosted(ZOO["rtmpose-t"], *pose))
    assert main(["export", "--checkpoint", "zoo:rtmpose-t", "--out", str(tmp_path / "t.onnx")]) == 0
    assert (tmp_path / "t.onnx").is_file()
