"""Latency protocol, GEMM probe and fingerprint: correctness only (tiny run counts, no speed asserts)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from rtmposelib.export import latency
from rtmposelib.export.fingerprint import machine_fingerprint
from rtmposelib.export.gemm_probe import gemm_peak, share_of_peak, torch_gemm_gflops
from rtmposelib.export.onnx import export_onnx


class TinySimCC(torch.nn.Module):
    """Stand-in SimCC model for a (64, 96) crop (w, h), split ratio 2."""

    def __init__(self, k: int = 5):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, k, kernel_size=32, stride=32)
        self.fc_x = torch.nn.Linear(6, 128)
        self.fc_y = torch.nn.Linear(6, 192)

    def forward(self, x):
        t = self.conv(x).flatten(2)
        return self.fc_x(t), self.fc_y(t)


def test_time_runs_protocol(monkeypatch):
    """Warm-up calls are untimed; median and p90 come from the timed calls only (fake clock)."""
    durations = np.arange(1, 11) / 1e3                    # 1..10 ms
    stamps = itertools.chain.from_iterable((0.0, d) for d in durations)
    monkeypatch.setattr(latency.time, "perf_counter", lambda: next(stamps))
    calls = []
    stats = latency.time_runs(lambda: calls.append(1), runs=10, warmup=4)
    assert len(calls) == 14
    assert stats["median_ms"] == pytest.approx(5.5)
    assert stats["p90_ms"] == pytest.approx(9.1)
    assert stats["min_ms"] == pytest.approx(1.0) and stats["mean_ms"] == pytest.approx(5.5)
    with pytest.raises(ValueError, match="runs"):
        latency.time_runs(lambda: None, runs=0)


def test_scene_boxes():
    image, boxes = latency.scene(6)
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    assert boxes.shape == (6, 4)
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert boxes.min() >= 0 and boxes[:, 2].max() <= 640 and boxes[:, 3].max() <= 480


def test_measure_model_records(tmp_path):
    torch.manual_seed(0)
    model = TinySimCC()
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(64, 96))
    threads = torch.get_num_threads()
    records = latency.measure_model(model, path, input_size=(64, 96), people=(1, 3), runs=2, warmup=1)
    assert torch.get_num_threads() == threads                   # restored after measuring at 1 thread
    keys = {(r["backend"], r["device"], r["mode"], r["people"]) for r in records if r["device"] == "cpu"}
    assert keys == {(b, "cpu", m, n) for b in ("ort", "torch")
                    for m, n in (("model", 1), ("end_to_end", 1), ("end_to_end", 3))}
    assert all(r["runs"] == 2 and r["warmup"] == 1 and r["median_ms"] > 0 for r in records)
    with pytest.raises(ValueError, match="backend"):
        latency.measure_model(model, path, input_size=(64, 96), backends=("tensorrt",), runs=1, warmup=0)


def test_table11_ratios_by_hand():
    """Ratios to t, ours and the paper's, and 'not measured' GPU cells, on hand-made records."""
    fp = machine_fingerprint()
    rows = []
    for name, ms in (("rtmpose-t", 2.0), ("rtmpose-m", 7.0)):
        for backend, factor in (("ort", 1.0), ("torch", 1.5)):
            rows.append({"preset": name, "gmacs": 1.0, "backend": backend, "device": "cpu",
                         "mode": "model", "people": 1, "median_ms": ms * factor, "p90_ms": ms * 1.1,
                         "peak_share": 0.1, "paper_cpu_ms": latency.paper_latency_ms(name)["cpu"],
                         "paper_gpu_ms": latency.paper_latency_ms(name)["gpu"], **fp})
        rows.append({**rows[-1], "backend": "ort", "mode": "end_to_end", "people": 3, "median_ms": 9.0})
    table = latency.table11(pd.DataFrame(rows)).set_index("preset")
    assert table.loc["rtmpose-m", "ratio_to_t"] == pytest.approx(3.5)
    assert table.loc["rtmpose-m", "paper_ratio_to_t"] == pytest.approx(11.060 / 3.204)
    assert table.loc["rtmpose-t", "torch_ms"] == pytest.approx(3.0)
    assert table.loc["rtmpose-m", "ort_e2e_3p_ms"] == pytest.approx(9.0)
    assert (table["gpu_ms"] == latency.NOT_MEASURED).all()
    assert table.loc["rtmpose-t", "cpu_model"] == fp["cpu_model"]


def test_paper_columns():
    assert [latency.paper_latency_ms(f"rtmpose-{s}")["cpu"] for s in "tsml"] == [3.204, 4.481, 11.060, 18.847]
    assert [latency.paper_latency_ms(f"rtmpose-{s}")["gpu"] for s in "tsml"] == [1.064, 1.392, 2.288, 3.459]
    assert latency.paper_latency_ms("rtmpose-l-wholebody-384x288") == {"cpu": 44.581, "gpu": 7.678}
    assert math.isnan(latency.paper_latency_ms("rtmpose-x-384x288")["cpu"])


def test_measure_latency_preset():
    pytest.importorskip("rtmposelib.export.complexity", reason="engineer A's complexity not in yet")
    records = latency.measure_latency(["t"], backends=("ort",), people=(1,), runs=1, warmup=0,
                                      peak_gflops=100.0)
    assert set(records["preset"]) == {"rtmpose-t"}
    model_row = records[records["mode"] == "model"].iloc[0]
    assert model_row["gmacs"] == pytest.approx(0.35864, abs=2e-4)         # docs/official-behaviour.md "Complexity"
    assert model_row["peak_share"] == pytest.approx(
        share_of_peak(model_row["gmacs"], model_row["median_ms"], 100.0))
    assert model_row["paper_cpu_ms"] == 3.204 and model_row["cpu_model"]


def test_gemm_probe_and_share():
    assert share_of_peak(1.0, 10.0, 400.0) == pytest.approx(0.5)        # 2 GFLOP in 10 ms = 200 GFLOP/s
    assert 0 < torch_gemm_gflops(n=128, repeats=1) < 1e4
    peak = gemm_peak(n=128, repeats=1)
    assert peak["peak_gflops"] == max(peak["torch_gflops"], peak["numpy_gflops"]) > 0
    with pytest.raises(ValueError):
        share_of_peak(1.0, 0.0, 1.0)


def test_fingerprint():
    fp = machine_fingerprint()
    assert fp["torch"] == torch.__version__.split("+")[0]
    assert fp["cpu_model"] and fp["logical_cores"] >= 1 and fp["onnxruntime"] != "not installed"
    assert fp["torch_threads"] == torch.get_num_threads()


def test_bench_command(tmp_path, capsys):
    pytest.importorskip("rtmposelib.export.complexity", reason="engineer A's complexity not in yet")
    from rtmposelib.cli import main

    csv = tmp_path / "records.csv"
    assert main(["bench", "--presets", "t", "--runs", "1", "--warmup", "0", "--backends", "ort",
                 "--people", "1", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "rtmpose-t" in out and "3.204" in out and "GEMM peak" in out
    records = pd.read_csv(csv)
    assert set(records["mode"]) == {"model", "end_to_end"} and records["cpu_model"].notna().all()
    assert main(["bench", "--presets", "q", "--runs", "1"]) == 2           # one-line error, no traceback
    assert "rtmpose bench: error: unknown presets" in capsys.readouterr().err
