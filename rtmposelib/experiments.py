"""The workflows the notebooks call, one per cell, and the suite's plan of notebook runs per scale.

Thin compositions over the library: roadmap configs (``roadmap.for_step``) at a scale
(``scales.at_scale``), the heatmap pre-training and fine-tune configs (``train.pretrain``), training
(``train.loop.fit``), COCO evaluation (``eval.evaluate``), complexity (``export.complexity``), latency
(``export.latency``) and the video demo (``infer.video``). APs are reported in percent, as the paper.
The experiments follow the paper's Sec. 3 (roadmap, Fig. 3; Tables 2 and 3) and Sec. 4 (Tables 1, 4-12).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib import results
from rtmposelib.config import RunConfig, rtmpose
from rtmposelib.roadmap import STEP_NAMES, STEPS, for_step
from rtmposelib.scales import get_scale
from rtmposelib.suite import Entry

COCO_STATS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
FINAL_STEP = "kernel7"          # the architecture the paper's Tables 2 and 3 sweep around
PRETRAIN_RUN = "pretrain_heatmap/heatmap"


def pretrain_config(scale: str) -> RunConfig:
    """The UDP heatmap pre-training of the roadmap's backbone (CSPNeXt-m; smaller at smoke/cpu)."""
    from rtmposelib.scales import at_scale
    from rtmposelib.train.pretrain import heatmap_pretrain_config

    return heatmap_pretrain_config(at_scale(rtmpose("m"), scale))


def step_config(step: str, *, scale: str, seed: int = 0, kernel_size: int = 0, inv_temperature: float = 0.0,
                pretrain_dir: str | None = None) -> RunConfig:
    """A roadmap step's config at ``scale``, with optional sweep overrides (0 = the step's own value).

    kernel_size: the final conv kernel (Table 2). inv_temperature: 1/tau on prediction and label
    (Table 3). pretrain_dir: the heatmap pre-training run whose checkpoint initialises the backbone
    (required from the "pretrain" step on).
    """
    from rtmposelib.scales import at_scale
    from rtmposelib.train.pretrain import finetune_config

    cfg = at_scale(for_step(step), scale)
    if kernel_size:
        cfg = replace(cfg, model=replace(cfg.model, final_kernel_size=int(kernel_size)))
    if inv_temperature:
        cfg = replace(cfg, loss=replace(cfg.loss, beta=float(inv_temperature), label_beta=float(inv_temperature)))
    cfg = replace(cfg, train=replace(cfg.train, seed=int(seed)))
    if cfg.train.init_backbone == "heatmap":
        if not pretrain_dir:
            raise ValueError(f"roadmap step {step!r} starts from the heatmap pre-training: pass pretrain_dir")
        cfg = finetune_config(cfg, Path(pretrain_dir) / "checkpoints")
    return cfg


@dataclass
class TrainEval:
    """One training + evaluation: flat metrics (AP in percent), the iteration history, per-keypoint AP."""

    metrics: dict
    history: pd.DataFrame
    per_keypoint: pd.DataFrame


def train_and_evaluate(cfg: RunConfig, out_dir: str | Path, *, scale: str) -> TrainEval:
    """Train ``cfg`` (checkpoints under ``out_dir/checkpoints``, ignored by git) and evaluate the
    weights validation uses (EMA when on) on the run's val split."""
    import torch

    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.train.loop import fit

    s = get_scale(scale)
    t0 = time.perf_counter()
    run = fit(cfg, out_dir=Path(out_dir) / "checkpoints", max_iters=s.max_iters, progress=False)
    train_s = time.perf_counter() - t0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ev = evaluate(run.eval_model, cfg, device=device)
    metrics = {k: 100.0 * float(ev[k]) for k in COCO_STATS}
    metrics.update(train_seconds=train_s, eval_seconds=time.perf_counter() - t0 - train_s,
                   iterations=int(run.metrics.get("iterations", 0)),
                   final_loss=_finite(run.metrics.get("final_loss")),
                   images_per_s=_finite(run.metrics.get("images_per_s_median")),
                   num_instances=int(ev.get("num_instances", 0)), seed=cfg.train.seed,
                   skipped=int(sum(ev.get("skipped", {}).values())))
    per_kpt = ev.get("per_keypoint")
    return TrainEval(metrics, run.history, per_kpt if isinstance(per_kpt, pd.DataFrame) else pd.DataFrame())


def _finite(v) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def step_metrics(run: TrainEval, *, step: str, kernel_size: int, inv_temperature: float) -> dict:
    """The run's metrics plus the identity of the roadmap step / sweep point (used by the summaries)."""
    cfg_kernel = kernel_size or for_step(step).model.final_kernel_size
    cfg_beta = inv_temperature or for_step(step).loss.beta
    return {**run.metrics, "step": step, "kernel_size": int(cfg_kernel), "inv_temperature": float(cfg_beta)}


def _runs(results_root: str | Path, notebook: str) -> pd.DataFrame:
    df = results.load_all(Path(results_root).parent) if Path(results_root).is_dir() else pd.DataFrame()
    if df.empty:
        return df
    scale = Path(results_root).name
    return df[(df["scale"] == scale) & (df["notebook"] == notebook)]


def _mean_std(g: pd.Series) -> tuple[float, float, int]:
    v = g.dropna().astype(float)
    return (float(v.mean()) if len(v) else math.nan, float(v.std(ddof=1)) if len(v) > 1 else math.nan, len(v))


def roadmap_summary(results_root: str | Path) -> pd.DataFrame:
    """Fig. 3 from the ``train_step`` runs under ``results_root`` (= results/<scale>): one row per step
    in roadmap order with n seeds, AP mean and std, the paper's AP, our gain over the previous step and
    ``significant`` = |gain| > 2 standard errors of the difference (needs >= 2 seeds on both sides)."""
    runs = _runs(results_root, "train_step")
    rows = []
    for s in STEPS:
        part = runs[(runs.get("step") == s.name) & (runs.get("kernel_size") == for_step(s.name).model.final_kernel_size)
                    & (runs.get("inv_temperature") == for_step(s.name).loss.beta)] if len(runs) else runs
        mean, std, n = _mean_std(part["AP"]) if len(part) else (math.nan, math.nan, 0)
        if n:
            rows.append({"step": s.name, "label": s.label, "n": n, "ap_mean": mean, "ap_std": std,
                         "paper_ap": s.paper_ap})
    out = pd.DataFrame(rows, columns=["step", "label", "n", "ap_mean", "ap_std", "paper_ap"])
    out["gain"] = out["ap_mean"].diff()
    out["paper_gain"] = out["paper_ap"].diff()
    se = np.sqrt(out["ap_std"] ** 2 / out["n"] + (out["ap_std"] ** 2 / out["n"]).shift(1))
    out["gain_se"] = se
    out["significant"] = (out["gain"].abs() > 2 * se).where(se.notna(), False).astype(bool)
    return out


def sweep_summary(results_root: str | Path, kind: str) -> pd.DataFrame:
    """Table 2 (``kind="kernel"``) or Table 3 (``kind="temperature"``) from the ``train_step`` runs of
    the final architecture (roadmap runs of that step are reused as the sweep's default point)."""
    if kind not in ("kernel", "temperature"):
        raise ValueError(f"kind must be 'kernel' or 'temperature', got {kind!r}")
    runs = _runs(results_root, "train_step")
    base = for_step(FINAL_STEP)
    if len(runs):
        runs = runs[runs["step"] == FINAL_STEP]
        fixed = ("inv_temperature", base.loss.beta) if kind == "kernel" else ("kernel_size", base.model.final_kernel_size)
        runs = runs[runs[fixed[0]] == fixed[1]]
    x = "kernel_size" if kind == "kernel" else "inv_temperature"
    rows = []
    for value, g in (runs.groupby(x) if len(runs) else []):
        mean, std, n = _mean_std(g["AP"])
        row = f"{int(value)}x{int(value)}" if kind == "kernel" else f"{value:g}"
        rows.append({"row": row, x: value, "n": n, "ap_mean": mean, "ap_std": std})
    out = pd.DataFrame(rows, columns=["row", x, "n", "ap_mean", "ap_std"])
    from rtmposelib import paper
    ref = paper.paper_table(2 if kind == "kernel" else 3).iloc[:, 0]
    out["paper"] = [ref.get(r, math.nan) for r in out["row"]]
    return out


def plan(scale: str) -> list[Entry]:
    """The suite's notebook runs at ``scale``, with their dependencies."""
    s = get_scale(scale)
    steps = s.roadmap_steps or STEP_NAMES
    pre = Entry("pretrain_heatmap", "heatmap", {}, key_metric="AP")
    entries: list[Entry] = [pre]
    train_names: list[str] = []

    def train(run: str, step: str, seed: int, kernel: int = 0, tau: float = 0.0) -> None:
        needs_pre = STEP_NAMES.index(step) >= STEP_NAMES.index("pretrain")
        entries.append(Entry("train_step", run, {"step": step, "seed": seed, "kernel_size": kernel,
                                                 "inv_temperature": tau,
                                                 "pretrain_run": PRETRAIN_RUN if needs_pre else ""},
                             after=(pre.name,) if needs_pre else (), key_metric="AP"))
        train_names.append(f"train_step/{run}")

    for step in steps:
        for seed in s.seeds:
            train(f"{step}-seed{seed}", step, seed)
    roadmap_runs = tuple(train_names)
    default_k, default_tau = for_step(FINAL_STEP).model.final_kernel_size, for_step(FINAL_STEP).loss.beta
    for seed in s.sweep_seeds:
        reuse = FINAL_STEP in steps and seed in s.seeds
        for k in s.kernel_sizes:
            if not (reuse and k == default_k):
                train(f"kernel{k}-seed{seed}", FINAL_STEP, seed, kernel=k)
        for tau in s.inv_temperatures:
            if not (reuse and tau == default_tau):
                train(f"tau{tau:g}-seed{seed}", FINAL_STEP, seed, tau=tau)
    sweep_runs = tuple(n for n in train_names if n not in roadmap_runs)
    entries += [
        Entry("roadmap", "summary", {}, after=roadmap_runs, key_metric="final_ap"),
        Entry("sweeps", "summary", {}, after=roadmap_runs + sweep_runs, key_metric="best_kernel"),
        Entry("table1_complexity", "tables", {}, key_metric="presets"),
        Entry("eval_tables", "tables", {}, after=roadmap_runs, key_metric="AP_gt"),
        Entry("speed_tables", "tables", {}, key_metric="ort_ms_t"),
        Entry("speed_accuracy", "figures", {}, after=roadmap_runs, key_metric="points"),
        Entry("pipeline_video", "demo", {}, after=roadmap_runs, key_metric="fps_total"),
    ]
    entries.append(Entry("explorer", "all", {}, after=tuple(e.name for e in entries), key_metric="runs",
                         requires_success=False))
    return entries


# ---------------------------------------------------------------------------------------------------
# Tables 1, 4-12 and Figs. 1 / 5: complexity, evaluation protocols, latency, speed vs accuracy, video.

def shared_data_dir() -> Path | None:
    """The real data samples beside the project (``../shared/data``), or None when absent."""
    from rtmposelib.suite import PROJECT_ROOT

    d = PROJECT_ROOT.parent / "shared" / "data"
    return d if d.is_dir() else None


def table1_frame() -> pd.DataFrame:
    """Table 1 (Heatmap / SimCC / SimCC* on ResNet-50): our exact complexity beside the paper's."""
    from rtmposelib.export.complexity import table1

    return table1().reset_index()


def table1_for_paper(table1: pd.DataFrame) -> pd.DataFrame:
    """Our Table 1 with the paper's row and column names (for ``paper.side_by_side(..., 1)``)."""
    names = {"gflops": "Total FLOPs(G)", "params_m": "Total Params(M)", "head_gflops": "Head FLOPs(G)",
             "head_params_m": "Head Params(M)"}
    return table1.set_index("method")[list(names)].rename(columns=names)


def complexity_frame(scale: str) -> pd.DataFrame:
    """Params and GFLOPs (official counting) of the RTMPose presets the scale measures."""
    from rtmposelib.config import preset
    from rtmposelib.export.complexity import complexity

    return pd.DataFrame([{"preset": f"rtmpose-{s}", **complexity(preset(f"rtmpose-{s}").model)}
                         for s in get_scale(scale).model_sizes])


def final_run_dir(results_root: str | Path, scale: str) -> tuple[str, Path]:
    """(step, run directory) of the last roadmap step's first seed at ``scale``."""
    s = get_scale(scale)
    step = (s.roadmap_steps or STEP_NAMES)[-1]
    d = Path(results_root) / "train_step" / f"{step}-seed{s.seeds[0]}"
    if not (d / "checkpoints").is_dir():
        raise FileNotFoundError(f"no trained run of the last roadmap step at {d}; run the train_step entries first")
    return step, d


def load_trained(results_root: str | Path, scale: str):
    """(config, model) of the final roadmap run, with the weights validation used (EMA when on)."""
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import _state_dict_from

    step, d = final_run_dir(results_root, scale)
    cfg = step_config(step, scale=scale, seed=get_scale(scale).seeds[0], pretrain_dir=str(Path(results_root) / PRETRAIN_RUN))
    ckpt = d / "checkpoints" / ("best.pth" if (d / "checkpoints" / "best.pth").is_file() else "last.pth")
    model = build_model(cfg.model)
    model.load_state_dict(_state_dict_from(ckpt))
    return cfg, model.eval()


def _sample_data(name: str, ann: str, det: str | None):
    from rtmposelib.config import DataConfig

    root = shared_data_dir()
    if root is None or not (root / name / ann).is_file():
        return None
    return DataConfig(source=str(root / name), train_ann=ann, train_images=".", val_ann=ann, val_images=".",
                      val_bbox_file=det, dataset="coco", num_workers=0)


def eval_protocols_frame(results_root: str | Path, scale: str) -> pd.DataFrame:
    """Tables 4 / 5 / 11 protocols on the final roadmap model: ground-truth vs detector boxes, with and
    without flip test, on SynthPose val and on the COCO val sample (when ``../shared/data`` is present).
    At paper scale the same rows use COCO val2017 and the 56.4-AP detections. AP in percent."""
    import torch

    from rtmposelib.eval.evaluate import evaluate

    cfg, model = load_trained(results_root, scale)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    synth_det = "annotations/person_detection_results_val2017.json"
    sets = [("SynthPose val", cfg.data, synth_det),
            ("COCO sample", _sample_data("coco", "test_coco.json", None), "test_coco_det_AP_H_56.json")]
    rows = []
    for data_name, data, det_file in sets:
        if data is None:
            rows.append({"data": data_name, "boxes": "-", "flip_test": None, "AP": math.nan,
                         "note": "data not present"})
            continue
        for boxes, flip in (("ground truth", True), ("ground truth", False), ("detector", False)):
            run_cfg = replace(cfg, data=replace(data, val_bbox_file=det_file if boxes == "detector" else None))
            m = evaluate(model, run_cfg, flip_test=flip, device=device)
            rows.append({"data": data_name, "boxes": boxes, "flip_test": flip,
                         **{k: 100.0 * float(m[k]) for k in COCO_STATS}, "instances": int(m["num_instances"]),
                         "note": ""})
    return pd.DataFrame(rows)


def latency_frame(scale: str) -> pd.DataFrame:
    """Table 11: ONNX Runtime / PyTorch CPU latency by the paper's protocol, ours beside the paper's."""
    from rtmposelib.export.latency import latency_table

    s = get_scale(scale)
    warmup, runs = s.latency_runs
    return latency_table([f"rtmpose-{m}" for m in s.model_sizes], runs=runs, warmup=warmup,
                         people=(1,) if s.name == "smoke" else (1, 3, 6))


def speed_accuracy_frame(results_root: str | Path, scale: str) -> pd.DataFrame:
    """Fig. 1 / Fig. 5 points from our roadmap: per step, its model's GFLOPs, params, PyTorch CPU
    latency (batch 1, one thread, the paper's warm-up / timed protocol at this scale) and AP (mean)."""
    import torch

    from rtmposelib.export.complexity import count_flops, count_params
    from rtmposelib.export.latency import time_runs
    from rtmposelib.models.pose_model import build_model

    summary = roadmap_summary(results_root)
    warmup, runs = get_scale(scale).latency_runs
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for _, r in summary.iterrows():
            cfg = step_config(r["step"], scale=scale, pretrain_dir=str(Path(results_root) / PRETRAIN_RUN))
            model = build_model(cfg.model).eval()
            w, h = cfg.model.input_size
            x = torch.randn(1, 3, h, w)
            with torch.inference_mode():
                t = time_runs(lambda: model(x), runs=runs, warmup=warmup)
            rows.append({"name": r["step"], "label": r["label"], "gflops": count_flops(model, (w, h)),
                         "params_m": count_params(model) / 1e6, "latency_ms": t["median_ms"],
                         "ap": r["ap_mean"], "ap_std": r["ap_std"]})
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def write_synth_clip(out_dir: str | Path, *, n_frames: int, n_people: int, seed: int = 0) -> tuple[Path, Path]:
    """A SynthPose clip as numbered JPEG frames plus a COCO ground-truth file of its person boxes and
    keypoints (file names as image keys). Returns (frames folder, annotation file)."""
    import json

    import cv2

    from rtmposelib.data.synth_video import synth_video

    frames, truth = synth_video(n_frames=n_frames, n_people=n_people, seed=seed)
    folder = Path(out_dir) / "synth_clip"
    folder.mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i, (frame, people) in enumerate(zip(frames, truth)):
        name = f"{i:06d}.jpg"
        if not cv2.imwrite(str(folder / name), frame):
            raise OSError(f"could not write frame {folder / name}")
        images.append({"id": i, "file_name": name, "width": frame.shape[1], "height": frame.shape[0]})
        for p in people:
            kpts = np.asarray(p["keypoints"], dtype=float)
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "bbox": [float(v) for v in p["bbox"]], "area": float(p["area"]),
                         "keypoints": kpts.reshape(-1).tolist(), "num_keypoints": int((kpts[:, 2] > 0).sum()),
                         "track_id": int(p["track_id"])})
    ann_file = Path(out_dir) / "synth_clip_gt.json"
    ann_file.write_text(json.dumps({"images": images, "annotations": anns,
                                    "categories": [{"id": 1, "name": "person"}]}))
    return folder, ann_file


def pipeline_demo(results_root: str | Path, scale: str, out_dir: str | Path, *, det_interval: int = 5,
                  n_frames: int = 0, n_people: int = 3) -> dict:
    """Sec. 3.5: skip-frame detection every ``det_interval`` frames, pose NMS and One-Euro smoothing on a
    SynthPose clip with its ground-truth boxes as the detector, using the final roadmap model. Writes
    results.json, metrics.json and annotated.gif into ``out_dir/demo``; returns the demo's metrics.
    n_frames: 0 = 8 frames at smoke scale, 60 otherwise.
    PoseTrack frames need a person detector (``rtmpose demo --det <onnx>``), so they are not used here."""
    from rtmposelib.codecs import build_codec
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.infer.detector import GroundTruthDetector
    from rtmposelib.infer.topdown import TopdownPipeline
    from rtmposelib.infer.tracker import PoseTracker
    from rtmposelib.infer.video import run_demo

    import tempfile

    cfg, model = load_trained(results_root, scale)
    n_frames = n_frames or (8 if get_scale(scale).name == "smoke" else 60)
    with tempfile.TemporaryDirectory() as clip_dir:       # generated frames stay out of results/
        folder, ann_file = write_synth_clip(clip_dir, n_frames=n_frames, n_people=n_people)
        pipeline = TopdownPipeline(model, GroundTruthDetector(ann_file), metainfo=get_metainfo("coco"),
                                   codec=build_codec(cfg.codec))
        tracker = PoseTracker(pipeline, det_interval=det_interval)
        return run_demo(folder, pipeline, out_dir=Path(out_dir) / "demo", tracker=tracker, annotate="gif")


# ---------------------------------------------------------------------------------------------------
# Headline numbers of each notebook (metrics.json): scalars only, NaN where not measured.

def roadmap_metrics(summary: pd.DataFrame) -> dict:
    last = summary.iloc[-1] if len(summary) else None
    return {"steps": int(len(summary)), "seeds": int(summary["n"].max()) if len(summary) else 0,
            "baseline_ap": float(summary["ap_mean"].iloc[0]) if len(summary) else math.nan,
            "final_ap": float(last["ap_mean"]) if last is not None else math.nan,
            "final_ap_std": float(last["ap_std"]) if last is not None else math.nan,
            "significant_steps": int(summary["significant"].sum()) if len(summary) else 0}


def sweep_metrics(kernels: pd.DataFrame, temperatures: pd.DataFrame) -> dict:
    def best(df: pd.DataFrame, col: str) -> float:
        return float(df.loc[df["ap_mean"].idxmax(), col]) if df["ap_mean"].notna().any() else math.nan
    return {"kernel_points": int(len(kernels)), "temperature_points": int(len(temperatures)),
            "best_kernel": best(kernels, "kernel_size"), "best_inv_temperature": best(temperatures, "inv_temperature")}


def eval_metrics(protocols: pd.DataFrame) -> dict:
    out = {}
    for _, r in protocols.iterrows():
        if r["boxes"] == "-":
            continue
        data = "synth" if r["data"].startswith("SynthPose") else "coco_sample"
        tag = "gt" if r["boxes"] == "ground truth" else "det"
        out[f"{data}_AP_{tag}{'_flip' if r['flip_test'] else ''}"] = float(r["AP"])
    out["AP_gt"] = out.get("synth_AP_gt_flip", math.nan)
    return out


def latency_metrics(table11: pd.DataFrame) -> dict:
    out = {}
    for _, r in table11.iterrows():
        short = str(r["preset"]).replace("rtmpose-", "")
        for col in ("ort_ms", "torch_ms", "ratio_to_t", "peak_share"):
            if col in table11.columns and pd.notna(r[col]):
                out[f"{col.replace('_ms', '')}_ms_{short}" if col.endswith("_ms") else f"{col}_{short}"] = float(r[col])
    return out


def demo_metrics(demo: dict) -> dict:
    """The demo's scalar metrics, nested dicts flattened with '_' (lists such as messages dropped)."""
    out = {}
    for k, v in demo.items():
        if isinstance(v, dict):
            out.update({f"{k}_{kk}": vv for kk, vv in v.items() if isinstance(vv, (int, float)) or vv is None})
        elif isinstance(v, (int, float)) or v is None:
            out[k] = v
    return out


def explore(results_root: str | Path) -> pd.DataFrame:
    """Every run of one scale (``results_root`` = results/<scale>) as one DataFrame row."""
    root = Path(results_root)
    df = results.load_all(root.parent)
    return df[df["scale"] == root.name].reset_index(drop=True) if len(df) else df


def complexity_metrics(sizes: pd.DataFrame) -> dict:
    """Every numeric column of the complexity frame as ``<preset>_<column>``, plus the preset count."""
    out: dict = {"presets": int(len(sizes))}
    for _, r in sizes.iterrows():
        for col, v in r.items():
            if col != "preset" and isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                out[f"{str(r['preset']).replace('-', '_')}_{col}"] = float(v)
    return out


def paper_reference_tables(numbers) -> dict[str, pd.DataFrame]:
    """The paper's tables ``numbers`` as ``{"paper_table<N>": wide DataFrame}`` for a run record."""
    from rtmposelib import paper

    return {f"paper_table{n}": paper.paper_table(n).reset_index() for n in numbers}
