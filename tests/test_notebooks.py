"""Every notebook of the suite at smoke scale through papermill, asserting on the files it wrote, the figures the
executed notebooks show and the report page; and the house rules for committed notebooks (no outputs, a
parameters cell, no def/class/loops, a markdown cell after every figure)."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from rtmposelib.suite.paths import NOTEBOOKS_DIR
from rtmposelib.suite.plan import plan
from rtmposelib.suite.runner import run_suite

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_are_thin_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    assert "parameters" in code[0].metadata.get("tags", [])
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: committed with outputs"
        assert not re.search(r"^\s*(def|class|for|while|lambda)\b", cell.source, re.M), f"{path.name}: logic in a cell"
    assert "/work" not in path.read_text() and "/home" not in path.read_text()
    for before, cell in zip(nb.cells, nb.cells[1:] + [None]):       # every key figure is followed by what to look at
        if before.cell_type == "code" and re.search(r"^fig\w* = ", before.source, re.M) and path.stem != "explorer":
            assert cell is not None and cell.cell_type == "markdown" or "fig_keypoints" in before.source, \
                f"{path.name}: no markdown cell after {before.source[:60]!r}"


def test_the_plan_uses_every_notebook():
    paper_only = {"zoo_eval"}                       # needs the real datasets and the released weights
    assert {e.notebook for e in plan("cpu")} == {p.stem for p in NOTEBOOKS} - paper_only
    assert {e.notebook for e in plan("smoke")} == {p.stem for p in NOTEBOOKS} - paper_only
    assert paper_only <= {e.notebook for e in plan("paper")}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    summary = run_suite(plan("smoke"), scale="smoke", results_root=root, jobs=2, log=lambda *_: None)
    return root / "smoke", summary.set_index("entry")


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def _finite(d: dict, keys) -> None:
    for k in keys:
        assert k in d and d[k] is not None and math.isfinite(d[k]), f"{k} missing or not finite in {d}"


def test_every_entry_succeeds_and_records_itself(smoke):
    root, summary = smoke
    assert (summary["status"] == "ok").all(), summary[summary["status"] != "ok"].to_string()
    for entry in summary.index:
        run = root / entry
        assert (run / "config.json").is_file() and (run / "suite.json").is_file()
        executed = (run / f"{entry.split('/')[0]}.ipynb").read_text()
        assert str(root) not in executed and "<results>" in executed     # machine paths scrubbed


def test_training_runs(smoke):
    root, _ = smoke
    for run in ("pretrain_heatmap/heatmap", "train_step/baseline-seed0", "train_step/kernel7-seed0",
                "train_step/kernel1-seed0", "train_step/tau1-seed0"):
        m = _metrics(root / run)
        _finite(m, ["AP", "AP50", "AR", "train_seconds", "iterations"])
        assert 0.0 <= m["AP"] <= 100.0 and m["iterations"] >= 1
        assert len(pd.read_csv(root / run / "history.csv")) == m["iterations"]
    assert _metrics(root / "train_step/kernel1-seed0")["kernel_size"] == 1
    assert _metrics(root / "train_step/tau1-seed0")["inv_temperature"] == 1.0
    cfg = json.loads((root / "train_step/pretrain-seed0/config.json").read_text())
    assert cfg["train"]["init_backbone"].endswith("last.pth")          # fine-tuned from the pre-training run
    assert json.loads((root / "pretrain_heatmap/heatmap/config.json").read_text())["model"]["head"] == "heatmap"
    # the stand-in for ImageNet weights: its own SynthPose set; the baseline and the pre-training start from it
    standin = json.loads((root / "pretrain_heatmap/standin/config.json").read_text())
    assert standin["model"]["head"] == "heatmap" and standin["data"]["source"] != "synth:smoke"
    assert _metrics(root / "pretrain_heatmap/standin")["kind"] == "standin"
    for run in ("pretrain_heatmap/heatmap", "train_step/baseline-seed0"):
        init = json.loads((root / run / "config.json").read_text())["train"]["init_backbone"]
        assert init.endswith("last.pth") and "standin" in init


def test_roadmap_and_sweeps(smoke):
    root, _ = smoke
    rd = root / "roadmap/summary"
    summary = pd.read_csv(rd / "roadmap.csv")
    assert list(summary["step"]) == ["baseline", "pretrain", "kernel7"]
    assert (rd / "fig3_roadmap.png").stat().st_size > 5000
    assert (rd / "fig3_side_by_side.md").read_text().startswith("| row | column | paper | ours | diff | note |")
    _finite(_metrics(rd), ["final_ap", "baseline_ap"])
    sw = root / "sweeps/summary"
    assert pd.read_csv(sw / "table2_kernel.csv")["kernel_size"].tolist() == [1, 7]
    assert pd.read_csv(sw / "table3_temperature.csv")["inv_temperature"].tolist() == [1.0, 10.0]
    for name in ("table2_kernel.png", "table3_temperature.png", "table2_side_by_side.tex", "table3_side_by_side.csv"):
        assert (sw / name).is_file()


def test_tables_figures_and_demo(smoke):
    root, _ = smoke
    t1 = pd.read_csv(root / "table1_complexity/tables/table1.csv").set_index("method")
    assert abs(t1.loc["SimCC*", "params_m"] - 23.59) < 0.05                   # paper Table 1
    side = pd.read_csv(root / "table1_complexity/tables/table1_side_by_side.csv")
    assert side["diff"].abs().max() < 0.05
    _finite(_metrics(root / "table1_complexity/tables"), ["rtmpose_t_params", "rtmpose_t_gflops"])
    assert _metrics(root / "table1_complexity/tables")["rtmpose_t_params"] == 3337007
    ev = pd.read_csv(root / "eval_tables/tables/eval_protocols.csv")
    assert {"ground truth", "detector"} <= set(ev["boxes"])
    _finite(_metrics(root / "eval_tables/tables"), ["synth_AP_gt_flip", "synth_AP_gt", "synth_AP_det"])
    assert (root / "eval_tables/tables/paper_table9.csv").is_file()
    samples = pd.read_csv(root / "eval_tables/tables/tables8_9_samples.csv")
    wholebody = pd.read_csv(root / "eval_tables/tables/table6_wholebody_oracle.csv")
    if samples["value"].notna().any():                                        # the real samples are present
        assert {"crowdpose", "mpii", "ap10k", "aic"} <= set(samples["dataset"])
        assert set(samples.loc[samples["dataset"] == "mpii", "predictor"]) == {"oracle"}
        assert samples.loc[samples["dataset"] == "crowdpose", "paper_rtmpose_m"].iloc[0] == 66.9
        assert wholebody.set_index("part").loc["whole-body", "AP"] > 90              # the oracle decodes its targets
        assert wholebody.set_index("part").loc["whole-body", "paper_rtmpose_m_AP"] == 59.9
    else:
        assert samples["reason"].str.contains("not present").all()
    _finite(_metrics(root / "speed_tables/tables"), ["ort_ms_t", "torch_ms_t", "pipeline_ms_t", "det_ms"])
    t12 = pd.read_csv(root / "speed_tables/tables/table12_pipeline.csv")
    assert (t12["total_ms"] > t12["pose_ms"]).all() and t12["paper_cpu_ms"].iloc[0] == 12.403
    pts = pd.read_csv(root / "speed_accuracy/figures/points.csv")
    assert len(pts) == 2 and pts["latency_ms"].gt(0).all() and pts["gflops"].gt(0).all()   # the model family
    for fig in ("fig1_speed_accuracy.png", "fig5_gflops_accuracy.png"):
        assert (root / "speed_accuracy/figures" / fig).stat().st_size > 5000
    demo = _metrics(root / "pipeline_video/demo")
    _finite(demo, ["fps_total", "frames", "detector_runs"])
    assert demo["frames"] == 8 and demo["detector_runs"] == 2                 # detection every 5 frames
    assert demo["source"] == "synthpose clip + ground-truth boxes"            # no detector ONNX given
    assert (root / "pipeline_video/demo/demo/annotated.gif").is_file()
    runs = pd.read_csv(root / "explorer/all/runs.csv")
    assert len(runs) == _metrics(root / "explorer/all")["runs"] >= 13


# notebooks whose executed copies must show figures (the others show tables)
FIGURE_NOTEBOOKS = ("train_step", "train_size", "pretrain_heatmap", "roadmap", "sweeps", "speed_accuracy",
                    "eval_tables", "pipeline_video", "speed_tables", "explorer")


def test_executed_notebooks_keep_their_figures(smoke):
    root, summary = smoke
    for entry in summary.index:
        notebook = entry.split("/")[0]
        if notebook not in FIGURE_NOTEBOOKS:
            continue
        nb = nbformat.read(root / entry / f"{notebook}.ipynb", as_version=4)
        images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
        assert images, f"{entry}: the executed notebook shows no figure"
        outputs = [o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not any("<Figure size" in d.get("text/plain", "") and "image/png" not in d for d in outputs), \
            f"{entry}: a figure printed as text"


def test_model_family_fig1_has_two_sizes_with_distinct_latencies(smoke):
    root, _ = smoke
    pts = pd.read_csv(root / "speed_accuracy/figures/points.csv")
    assert list(pts["size"]) == ["t", "s"]
    assert pts["latency_ms"].nunique() == 2 and pts["latency_ms_256x192"].nunique() == 2
    assert (pts["latency_ms_256x192"] > pts["latency_ms"]).all()              # 256x192 is larger than the smoke crop
    assert pts["params_m"].is_monotonic_increasing and pts["paper_cpu_ms"].tolist() == [3.204, 4.481]
    for size, init in (("t", "pretrain_heatmap/standin/"), ("s", "pretrain_heatmap/standin-s/")):
        cfg = json.loads((root / f"train_size/{size}-seed0/config.json").read_text())
        assert init in cfg["train"]["init_backbone"] and cfg["model"]["widen_factor"] == {"t": 0.375, "s": 0.5}[size]
    assert json.loads((root / "pretrain_heatmap/standin-s/config.json").read_text())["model"]["widen_factor"] == 0.5
    demo = _metrics(root / "pipeline_video/demo")
    _finite(demo, ["jitter_raw", "jitter_smoothed"])                          # measured, not null
    gallery = pd.read_csv(root / "eval_tables/tables/gallery.csv")
    assert list(dict.fromkeys(gallery["group"])) == ["best", "median", "worst"]
    assert gallery["oks"].is_monotonic_decreasing


def test_report_holds_every_figure_and_table_of_the_plan(smoke):
    from rtmposelib.suite import report

    root, summary = smoke
    page = report.write_report(root.parent, "smoke").read_text()
    items = report.report_items(plan("smoke"), root)
    assert sum(len(v["figures"]) for v in items.values()) >= 8 and sum(len(v["tables"]) for v in items.values()) >= 20
    for entry, found in items.items():
        for png in found["figures"]:
            assert f'id="{report.anchor("figure", entry, png.stem)}"' in page, f"{entry}: figure {png.name} missing"
        for csv in found["tables"]:
            assert f'id="{report.anchor("table", entry, csv.stem)}"' in page, f"{entry}: table {csv.name} missing"
    assert page.count("data:image/png;base64,") == sum(len(v["figures"]) for v in items.values())
    assert 'id="table-suite"' in page and 'id="table-training-runs"' in page and "library source digest" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page   # self-contained
    states = report.entry_states(plan("smoke"), root, NOTEBOOKS_DIR)
    assert (states["status"] == "ok").all() and len(states) == len(summary)
    # current unless the library or a notebook changed while the suite ran (a shared working tree)
    assert states["cache"].isin(["up to date", "stale"]).all()
    assert page.count("up to date") == (states["cache"] == "up to date").sum()
    if report.shutil.which("chromium") is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    messages = report.screenshot(root / report.REPORT_FILE, root / report.SCREENSHOT_FILE)
    assert messages == [] and (root / report.SCREENSHOT_FILE).stat().st_size > 10000
