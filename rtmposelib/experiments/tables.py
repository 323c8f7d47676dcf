"""The paper's tables at small scale: Table 1 (complexity), the evaluation protocols of Tables 4 / 5,
Tables 8 / 9 on the real sample sets, Table 6 (COCO-WholeBody) as an oracle run, and the paper's
values beside ours (``rtmposelib/reference/paper_tables.csv``).

Real samples are read from ``samples_root`` (a folder laid out like the project's shared sample data:
``coco/``, ``crowdpose/``, ``aic/``, ``mpii/``, ``ap10k/``, ``posetrack18/``); by default
``$RTMPOSE_SAMPLES`` or the ``shared/data`` folder beside the project (:mod:`rtmposelib.data.samples`).
Missing samples give a row with the reason, never an error. AP in percent.

And a gallery of the final model's val predictions: the best, median and worst instances by OKS.
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib.data.samples import samples_missing_reason
from rtmposelib.experiments.runs import COCO_STATS, load_trained
from rtmposelib.suite.scales import get_scale


def shared_data_dir(samples_root: str | Path | None = None) -> Path | None:
    """The real data samples: ``samples_root`` if given (relative paths from the project root), else
    :func:`rtmposelib.data.samples.samples_dir` (``$RTMPOSE_SAMPLES``, then ``shared/data`` beside the
    project); None when the folder is absent."""
    from rtmposelib.data.samples import PROJECT_ROOT, samples_dir

    if samples_root:
        d = Path(samples_root)
        d = d if d.is_absolute() else PROJECT_ROOT / d
        return d if d.is_dir() else None
    return samples_dir()


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

def _sample_data(name: str, ann: str, det: str | None, samples_root: str | Path | None = None):
    from rtmposelib.config import DataConfig

    root = shared_data_dir(samples_root)
    if root is None or not (root / name / ann).is_file():
        return None
    return DataConfig(source=str(root / name), train_ann=ann, train_images=".", val_ann=ann, val_images=".",
                      val_bbox_file=det, dataset="coco", num_workers=0)


def eval_protocols_frame(results_root: str | Path, scale: str, *,
                         samples_root: str | Path | None = None) -> pd.DataFrame:
    """Tables 4 / 5 / 11 protocols on the final roadmap model: ground-truth vs detector boxes, with and
    without flip test, on SynthPose val and on the COCO val sample (when the real samples are present).
    At paper scale the same rows use COCO val2017 and the 56.4-AP detections. AP in percent."""
    import torch

    from rtmposelib.eval.evaluate import evaluate

    cfg, model = load_trained(results_root, scale)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    synth_det = "annotations/person_detection_results_val2017.json"
    sets = [("SynthPose val", cfg.data, synth_det),
            ("COCO sample", _sample_data("coco", "test_coco.json", None, samples_root), "test_coco_det_AP_H_56.json")]
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
    from rtmposelib.suite import paper

    return {f"paper_table{n}": paper.paper_table(n).reset_index() for n in numbers}


# ---------------------------------------------------------------------------------------------------
# Tables 8 / 9 on the real sample sets, and Table 6 (COCO-WholeBody) as an oracle run.

# sample set -> (paper table, the paper's RTMPose-m value in that table); Table 8: CrowdPose, AP-10K;
# Table 9: MPII PCKh@0.5 (``rtmposelib/reference/paper_tables.csv``)
PAPER_SAMPLE_ROWS = {"crowdpose": (8, "CrowdPose / RTMPose-m", "AP"), "ap10k": (8, "AP-10K / RTMPose-m", "AP"),
                     "mpii": (9, "RTMPose-m", "PCKh@0.5")}


def _paper_value(table: int, row: str, column: str) -> float:
    from rtmposelib.suite import paper

    t = paper.paper_table(table)
    return float(t.loc[row, column]) if row in t.index and column in t.columns else math.nan


def samples_frame(results_root: str | Path, scale: str, *, samples_root: str | Path | None = None) -> pd.DataFrame:
    """Tables 8 / 9 at sample scale: the final roadmap model on every real sample set (COCO, CrowdPose,
    AIC, MPII, AP-10K) through :func:`rtmposelib.eval.benchmarks.evaluate_on_samples`, beside the
    paper's RTMPose-m value. Its ``predictor`` column says what was measured: the model, the model
    against ground truth mapped to COCO's keypoints, or the oracle (targets decoded) for sets whose
    keypoints the model does not predict. Without samples: one row whose ``reason`` says so."""
    import torch

    from rtmposelib.codecs import build_codec
    from rtmposelib.eval.benchmarks import COLUMNS, evaluate_on_samples

    root = shared_data_dir(samples_root)
    if root is None:
        row = dict.fromkeys(COLUMNS)
        row.update(dataset="-", reason=f"samples not present ({samples_root or samples_missing_reason()})")
        out = pd.DataFrame([row], columns=COLUMNS)
    else:
        cfg, model = load_trained(results_root, scale)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        out = evaluate_on_samples(model, root=root, input_size=cfg.model.input_size, codec=build_codec(cfg.codec),
                                  flip_test=cfg.flip_test, device=device)
    ref = [PAPER_SAMPLE_ROWS.get(str(d)) for d in out["dataset"]]
    out["paper_table"] = [r[0] if r else None for r in ref]
    out["paper_rtmpose_m"] = [_paper_value(*r) if r else math.nan for r in ref]
    return out


# COCO-WholeBody's parts, as slices of the 133 keypoints (body 17, feet 6, face 68, hands 2 x 21)
WHOLEBODY_PARTS = {"body": slice(0, 17), "foot": slice(17, 23), "face": slice(23, 91), "hand": slice(91, 133),
                   "whole-body": slice(0, 133)}


def _part_ground_truth(gt: dict, part: slice) -> dict:
    """The COCO-WholeBody ground truth with each annotation's keypoints cut to one part."""
    from rtmposelib.data.coco import wholebody_keypoints

    anns = []
    for a in gt["annotations"]:
        full = wholebody_keypoints(a)
        if len(full) != 133 * 3:
            raise ValueError(f"COCO-WholeBody annotation {a.get('id')} has {len(full) // 3} keypoints, expected 133")
        kpts = full[part.start * 3:part.stop * 3]
        anns.append({**a, "keypoints": kpts, "num_keypoints": int(sum(v > 0 for v in kpts[2::3]))})
    return {**gt, "annotations": anns}


def wholebody_oracle_frame(*, samples_root: str | Path | None = None,
                           input_size: tuple[int, int] = (192, 256)) -> pd.DataFrame:
    """Table 6 at sample scale, as an ORACLE: the COCO-WholeBody sample (``coco/test_coco_wholebody.json``,
    133 keypoints) through the dataset -> SimCC codec -> COCO evaluation path with the whole-body
    metainfo, the encoded targets decoded in place of a model's outputs. It checks that the 133-keypoint
    path loads, encodes, decodes and scores (values near 100 are expected, not a model's accuracy);
    AP / AR per part (body, foot, face, hand, whole-body) with the part's sigmas, beside RTMPose-m's."""
    from rtmposelib.codecs import SimCCCodec
    from rtmposelib.config import simcc_sigma
    from rtmposelib.data.coco import TopdownCocoDataset, load_json
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.eval.coco_eval import coco_keypoint_eval
    from rtmposelib.eval.predict import predict_targets

    root = shared_data_dir(samples_root)
    ann = None if root is None else root / "coco" / "test_coco_wholebody.json"
    if ann is None or not ann.is_file():
        return pd.DataFrame([{"part": "-", "predictor": "oracle", "AP": math.nan, "AR": math.nan,
                              "reason": "coco/test_coco_wholebody.json not present"}])
    meta = get_metainfo("coco_wholebody")
    codec = SimCCCodec(input_size=input_size, sigma=simcc_sigma(input_size))
    dataset = TopdownCocoDataset(ann_file=ann, image_dir=ann.parent, metainfo=meta, codec=codec, input_size=input_size)
    results = predict_targets(dataset, codec=codec)
    gt = load_json(ann)
    rows = []
    for part, sl in WHOLEBODY_PARTS.items():
        part_results = [{**r, "keypoints": np.asarray(r["keypoints"], dtype=float).reshape(-1, 3)[sl]} for r in results]
        m = coco_keypoint_eval(_part_ground_truth(gt, sl), part_results, sigmas=np.asarray(meta.sigmas)[sl])
        rows.append({"part": part, "predictor": "oracle", "AP": 100.0 * float(m["AP"]), "AR": 100.0 * float(m["AR"]),
                     "instances": len(dataset), "skipped": int(sum(dataset.skipped.values())),
                     "paper_rtmpose_m_AP": _paper_value(6, "RTMPose-m 256x192", f"{part} AP"), "reason": ""})
    return pd.DataFrame(rows)


def samples_metrics(samples: pd.DataFrame, wholebody: pd.DataFrame) -> dict:
    """Headline numbers of the sample tables: each set's value (``<set>_<predictor>``), the whole-body
    oracle AP, and how many sets were evaluated."""
    out: dict = {"sample_sets": int(samples["value"].notna().sum())}
    for _, r in samples.iterrows():
        if pd.notna(r["value"]):
            key = str(r["dataset"]).replace(" ", "_").replace("(", "").replace(")", "")
            out[f"{key}_{str(r['metric'])}"] = float(r["value"])
    wb = wholebody.set_index("part")["AP"] if len(wholebody) else pd.Series(dtype=float)
    out["wholebody_oracle_AP"] = float(wb.get("whole-body", math.nan))
    return out


# ---------------------------------------------------------------------------------------------------
# A gallery of val predictions: the final roadmap model's best, median and worst instances by OKS.

def instance_oks(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, area: float, sigmas: np.ndarray) -> float:
    """COCO object keypoint similarity of one prediction (K, 2) with its ground truth (K, 2), image px,
    over the visible keypoints; NaN when none is visible."""
    vis = np.asarray(visible) > 0
    if not vis.any():
        return math.nan
    d2 = ((np.asarray(pred, float) - np.asarray(gt, float)) ** 2).sum(axis=1)
    e = d2 / ((2 * np.asarray(sigmas)) ** 2) / (max(float(area), 1e-9) * 2)
    return float(np.exp(-e)[vis].mean())


def val_predictions(results_root: str | Path, scale: str) -> pd.DataFrame:
    """The final roadmap model on every val instance (ground-truth boxes, the run's flip test): one row
    per instance with its image, box (center and size, image px), predicted and true keypoints ((K, 2)
    arrays), visibility and OKS against its own ground truth."""
    import torch

    from rtmposelib.codecs import build_codec
    from rtmposelib.data.sources import build_datasets
    from rtmposelib.eval.predict import predict

    cfg, model = load_trained(results_root, scale)
    _, val = build_datasets(replace(cfg, data=replace(cfg.data, val_bbox_file=None)))
    meta = val.metainfo
    device = "cuda" if torch.cuda.is_available() else "cpu"
    preds = predict(model, val, codec=build_codec(cfg.codec), flip_indices=meta.flip_indices if cfg.flip_test else None,
                    device=device)
    rows = []
    for inst, res in zip(val.instances, preds):
        kpts = np.asarray(res["keypoints"], float).reshape(-1, 3)
        area = inst.area or float(np.prod(inst.box_size))
        rows.append({"id": inst.id, "image_id": inst.image_id, "image_path": str(inst.image_path),
                     "file": inst.image_path.name, "center_x": float(inst.center[0]), "center_y": float(inst.center[1]),
                     "box_w": float(inst.box_size[0]), "box_h": float(inst.box_size[1]),
                     "oks": instance_oks(kpts[:, :2], inst.keypoints, inst.visible, area, meta.sigmas),
                     "pred": kpts[:, :2], "gt": np.asarray(inst.keypoints, float), "visible": inst.visible > 0})
    return pd.DataFrame(rows)


def gallery_picks(predictions: pd.DataFrame, *, per_group: int = 3) -> pd.DataFrame:
    """``per_group`` instances each with the best, the median and the worst OKS (column ``group``; rows
    ordered by OKS, highest first),
    plus the crop window (``crop_x0``, ``crop_y0``, ``crop_w``, ``crop_h``: the box padded by 1.25)."""
    scored = predictions.dropna(subset=["oks"]).sort_values("oks", ascending=False).reset_index(drop=True)
    n = len(scored)
    if n == 0:
        raise ValueError("no val instance with a visible keypoint to rank by OKS")
    k = min(per_group, n)
    mid = max(0, n // 2 - k // 2)
    parts = [("best", scored.iloc[:k]), ("median", scored.iloc[mid:mid + k]), ("worst", scored.iloc[n - k:])]
    out = pd.concat([p.assign(group=g) for g, p in parts], ignore_index=True)
    out["crop_w"], out["crop_h"] = 1.25 * out["box_w"], 1.25 * out["box_h"]
    out["crop_x0"] = (out["center_x"] - out["crop_w"] / 2).clip(lower=0).round().astype(int)
    out["crop_y0"] = (out["center_y"] - out["crop_h"] / 2).clip(lower=0).round().astype(int)
    return out


def gallery_images(picks: pd.DataFrame) -> list[np.ndarray]:
    """The crop of every pick (RGB uint8), read from its image file."""
    import cv2

    crops = []
    for _, r in picks.iterrows():
        image = cv2.imread(r["image_path"], cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"val image {r['image_path']} cannot be read")
        x0, y0 = int(r["crop_x0"]), int(r["crop_y0"])
        crop = image[y0:y0 + max(1, int(round(r["crop_h"]))), x0:x0 + max(1, int(round(r["crop_w"])))]
        crops.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
    return crops


def gallery_table(picks: pd.DataFrame) -> pd.DataFrame:
    """The picks as a table to write: group, instance and image ids, image file name, OKS."""
    return picks[["group", "id", "image_id", "file", "oks"]].copy()


def gallery_figure(results_root: str | Path, scale: str, *, per_group: int = 3):
    """(picks table, figure): the gallery of val predictions of the final roadmap model, best / median /
    worst by OKS, drawn over the image crops with the ground truth (:func:`rtmposelib.suite.viz.gallery_figure`)."""
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.suite import viz

    picks = gallery_picks(val_predictions(results_root, scale), per_group=per_group)
    fig = viz.gallery_figure(picks, gallery_images(picks), get_metainfo("coco").skeleton,
                             title=f"Val predictions of the final model at {scale} scale, by OKS")
    return gallery_table(picks), fig
