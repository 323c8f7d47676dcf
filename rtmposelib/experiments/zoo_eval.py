"""Reproduce the model zoo: the released checkpoints (:mod:`rtmposelib.zoo`) evaluated on every dataset
present under a data root, beside the published accuracy and the paper's Tables 4, 6, 8 and 9.

The data root is laid out as MMPose's ``data/`` folder (:data:`BENCHMARKS` names every file); a
benchmark whose annotation file is absent is a row with the reason, never an error. Each released
checkpoint is converted once to ONNX by our exporter (cached beside the download) and run by ONNX
Runtime on CPU, in batches of crops. Every crop runs plain and horizontally flipped in the same pass,
so one pass gives both protocols: flip test on (the model zoo's numbers) and off (the paper's Table 4).
Predictions are appended per image to ``<out_dir>/predictions/<benchmark>__<model>.jsonl``; an
interrupted run resumes after the last image written. A tqdm bar counts images.

Protocols (as the official configs): COCO val2017 with ground-truth boxes, and with the official
detection file (``COCO_val2017_detections_AP_H_56_person.json``, the Faster R-CNN boxes of the paper's
Table 4); COCO-WholeBody val with the same detections, AP per part (Table 6); CrowdPose test (its
detection file when present, else ground-truth boxes), AP-10K val and MPII val (PCKh) with ground-truth
boxes (Tables 8 and 9).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

COCO_DET = "person_detection_results/COCO_val2017_detections_AP_H_56_person.json"


@dataclass(frozen=True)
class Benchmark:
    """One evaluation set: files relative to ``<data root>/<folder>``; ``keypoints`` selects the zoo
    models that predict its keypoint set."""

    name: str
    dataset: str                          # metainfo / protocol name
    folder: str
    ann: str
    images: str
    keypoints: str
    bbox_file: str | None = None
    headbox_file: str | None = None
    bbox_optional: bool = False           # True: ground-truth boxes when the detection file is absent


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("coco-gt", "coco", "coco", "annotations/person_keypoints_val2017.json", "val2017", "coco"),
    Benchmark("coco-det", "coco", "coco", "annotations/person_keypoints_val2017.json", "val2017", "coco",
              bbox_file=COCO_DET),
    Benchmark("coco-wholebody", "coco_wholebody", "coco", "annotations/coco_wholebody_val_v1.0.json", "val2017",
              "coco_wholebody", bbox_file=COCO_DET),
    Benchmark("crowdpose", "crowdpose", "crowdpose", "annotations/mmpose_crowdpose_test.json", "images",
              "crowdpose", bbox_file="annotations/det_for_crowd_test_0.1_0.5.json", bbox_optional=True),
    Benchmark("mpii", "mpii", "mpii", "annotations/mpii_val.json", "images", "mpii",
              headbox_file="annotations/mpii_gt_val.mat"),
    Benchmark("ap10k", "ap10k", "ap10k", "annotations/ap10k-val-split1.json", "data", "ap10k"),
)

# zoo model -> (paper table, row) where the paper prints its number; Table 4 rows are the no-flip
# detector-box protocol, the others flip test.
PAPER_ROWS = {
    **{f"rtmpose-{s}": ("4", f"RTMPose-{s} / Faster-RCNN / AIC+COCO") for s in "tsml"},
    **{f"rtmpose-{s}-coco": ("4", f"RTMPose-{s} / Faster-RCNN / COCO") for s in "tsml"},
    "rtmpose-m-wholebody": ("6", "RTMPose-m 256x192"),
    "rtmpose-m-crowdpose": ("8", "CrowdPose / RTMPose-m*"),
    "rtmpose-m-ap10k": ("8", "AP-10K / RTMPose-m*"),
    "rtmpose-m-mpii": ("9", "RTMPose-m*"),
}
# the benchmark whose flip-test headline the release publishes, per keypoint set
PUBLISHED_ON = {"coco": "coco-det", "coco_wholebody": "coco-wholebody", "crowdpose": "crowdpose",
                "mpii": "mpii", "ap10k": "ap10k"}
DEFAULT_MODELS = ("rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-l", "rtmpose-m-384x288", "rtmpose-l-384x288",
                  "rtmpose-t-coco", "rtmpose-s-coco", "rtmpose-m-coco", "rtmpose-l-coco", "rtmpose-m-wholebody",
                  "rtmpose-m-crowdpose", "rtmpose-m-mpii", "rtmpose-m-ap10k")


def default_data_root() -> Path:
    """``$RTMPOSE_DATA``, else the folder holding the paper scale's COCO root (``$RTMPOSE_COCO``, default
    ``data/coco``); relative paths from the project root."""
    import os

    from rtmposelib.suite.paths import PROJECT_ROOT
    from rtmposelib.suite.scales import get_scale

    root = Path(os.environ.get("RTMPOSE_DATA") or Path(get_scale("paper").data_source).parent)
    return root if root.is_absolute() else PROJECT_ROOT / root


def benchmark_files(data_root: str | Path, bench: Benchmark) -> dict[str, Path | None]:
    """The files of ``bench`` under ``data_root`` (bbox None when optional and absent)."""
    base = Path(data_root) / bench.folder
    files = {"ann": base / bench.ann, "images": base / bench.images,
             "bbox": base / bench.bbox_file if bench.bbox_file else None,
             "headbox": base / bench.headbox_file if bench.headbox_file else None}
    if bench.bbox_optional and files["bbox"] is not None and not files["bbox"].is_file():
        files["bbox"] = None
    return files


def missing_files(data_root: str | Path, bench: Benchmark) -> list[str]:
    """The files ``bench`` needs that are absent (MPII's head boxes are optional: estimated without)."""
    files = benchmark_files(data_root, bench)
    ann, images, bbox = files["ann"], files["images"], files["bbox"]
    assert ann is not None and images is not None                  # only bbox and headbox may be None
    need = [ann, images] + ([bbox] if bbox is not None else [])
    return [str(p) for p in need if not p.exists()]


def onnx_of(entry, *, progress: bool = True) -> Path:
    """The released checkpoint of ``entry`` as ONNX (our exporter; cached beside the download)."""
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.models.mmpose_checkpoint import load_mmpose_checkpoint
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.zoo.download import fetch_entry
    from rtmposelib.zoo.registry import pose_run_config

    pth = fetch_entry(entry, progress=progress)
    out = pth.with_suffix(".onnx")
    if not out.is_file():
        cfg = pose_run_config(entry)
        model = load_mmpose_checkpoint(build_model(cfg.model), pth).eval()
        tmp = export_onnx(model, out.with_name(out.stem + ".part.onnx"), input_size=cfg.model.input_size)
        tmp.replace(out)
    return out


def _dataset(data_root: str | Path, bench: Benchmark, cfg):
    """The val dataset of ``bench`` for the model of ``cfg`` (crop size, codec)."""
    from rtmposelib.data.sources import build_datasets

    files = benchmark_files(data_root, bench)
    headbox = files["headbox"] if files["headbox"] is not None and files["headbox"].is_file() else None
    data = replace(cfg.data, source=str(Path(data_root) / bench.folder), dataset=bench.dataset,
                   train_ann=str(files["ann"]), val_ann=str(files["ann"]), train_images=str(files["images"]),
                   val_images=str(files["images"]), val_bbox_file=str(files["bbox"]) if files["bbox"] else None,
                   val_headbox_file=str(headbox) if headbox else None, num_workers=0)
    return build_datasets(replace(cfg, data=data))[1]


def predict_resumable(onnx_path: str | Path, dataset, *, codec, flip_indices, log: str | Path,
                      batch_size: int = 32, threads: int = 1, progress: bool = True) -> tuple[list, list, dict]:
    """(results without flip, results with flip test, timing) for every instance of ``dataset``, through
    ONNX Runtime, resuming from the per-image lines already in ``log``.

    Images are taken whole (all their crops) in batches of about ``batch_size`` crops; after each batch
    one line per image is appended to ``log``. timing: images and crops run now, seconds, ms per crop
    (plain + flipped)."""
    from tqdm import tqdm

    from rtmposelib.codecs import flip_test_average
    from rtmposelib.data.preprocess import normalize_images
    from rtmposelib.eval.predict import results_from_outputs
    from rtmposelib.export.ort_runner import make_session

    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    done: dict[int, dict] = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:          # a line cut by an interruption: redo that image
                    continue
                done[int(rec["image_id"])] = rec
        log.write_text("".join(json.dumps(rec) + "\n" for rec in done.values()))    # without a cut last line
    by_image: dict[int, list[int]] = {}
    for i, inst in enumerate(dataset.instances):
        by_image.setdefault(int(inst.image_id), []).append(i)
    todo = [img for img in by_image if img not in done]
    session = make_session(onnx_path, threads=threads)
    input_name = session.get_inputs()[0].name
    n_crops, seconds = 0, 0.0
    bar = tqdm(total=len(by_image), initial=len(by_image) - len(todo), unit="img", desc=Path(log).stem[:40],
               disable=not progress, leave=False)
    with bar, open(log, "a") as out:
        k = 0
        while k < len(todo):
            images: list[int] = []
            indices: list[int] = []
            while k < len(todo) and (not indices or len(indices) + len(by_image[todo[k]]) <= batch_size):
                images.append(todo[k])
                indices += by_image[todo[k]]
                k += 1
            samples = [dataset[i] for i in indices]
            batch = {key: np.asarray([np.asarray(s[key]) for s in samples]) for key in
                     ("center", "box_size", "image_id", "bbox_score", "id", "category_id") if key in samples[0]}
            crops = np.stack([normalize_images(s["image"]).numpy() for s in samples])
            t0 = time.perf_counter()
            plain = tuple(session.run(None, {input_name: crops}))
            flipped = tuple(session.run(None, {input_name: np.ascontiguousarray(crops[..., ::-1])}))
            seconds += time.perf_counter() - t0
            n_crops += len(crops)
            averaged = flip_test_average(codec, plain, flipped, flip_indices)
            results = {"plain": results_from_outputs(plain, batch, codec=codec),
                       "flip": results_from_outputs(averaged, batch, codec=codec)}
            for img in images:
                rec = {"image_id": img,
                       **{kind: [r for r in rs if r["image_id"] == img] for kind, rs in results.items()}}
                done[img] = rec
                out.write(json.dumps(rec) + "\n")
            out.flush()
            bar.update(len(images))
    plain = [r for rec in done.values() for r in rec["plain"]]
    flip = [r for rec in done.values() for r in rec["flip"]]
    timing = {"images_run": len(todo), "crops_run": n_crops, "seconds": seconds,
              "ms_per_crop": 1000.0 * seconds / (2 * n_crops) if n_crops else math.nan}
    return plain, flip, timing


def _score(dataset, bench: Benchmark, results: list[dict]) -> dict:
    """Headline metrics (percent) of ``results``; COCO-WholeBody: AP / AR of each part."""
    from rtmposelib.eval.evaluate import score_results

    if bench.dataset == "coco_wholebody":
        from rtmposelib.data.coco import load_json
        from rtmposelib.eval.coco_eval import coco_keypoint_eval
        from rtmposelib.experiments.tables import WHOLEBODY_PARTS, _part_ground_truth

        gt, sigmas, out = load_json(dataset.ann_file), np.asarray(dataset.metainfo.sigmas), {}
        for part, sl in WHOLEBODY_PARTS.items():
            part_results = [{**r, "keypoints": np.asarray(r["keypoints"], float).reshape(-1, 3)[sl].ravel().tolist()}
                            for r in results]
            m = coco_keypoint_eval(_part_ground_truth(gt, sl), part_results, sigmas=sigmas[sl])
            out[f"{part} AP"], out[f"{part} AR"] = 100 * float(m["AP"]), 100 * float(m["AR"])
        out["AP"] = out["whole-body AP"]
        return out
    m = score_results(dataset, results)
    m.pop("per_keypoint", None)
    if m["metric"] == "PCKh":
        return {"PCKh@0.5": float(m["PCKh"]), "PCKh@0.1": float(m["PCKh@0.1"])}
    return {k: 100 * float(v) for k, v in m.items() if isinstance(v, (float, int)) and not isinstance(v, bool)
            and k in ("AP", "AP50", "AP75", "AR", "AP(E)", "AP(M)", "AP(H)")}


def _paper_value(table: str, row: str, column: str) -> float:
    from rtmposelib.suite import paper

    t = paper.paper_table(table)
    return float(t.loc[row, column]) if row in t.index and column in t.columns else math.nan


def zoo_eval_frame(data_root: str | Path, out_dir: str | Path, *, models=DEFAULT_MODELS, benchmarks=None,
                   batch_size: int = 32, threads: int = 1, max_images: int | None = None,
                   progress: bool = True) -> pd.DataFrame:
    """One row per (benchmark, model, flip test): ours, the release's published number and the paper's,
    with instance counts and the measured ORT time per crop. ``models``: zoo names; ``benchmarks``: names
    of :data:`BENCHMARKS` (None = all); ``max_images``: evaluate the first N images only (a subset; its
    AP is not comparable to the published one)."""
    from rtmposelib.codecs import build_codec
    from rtmposelib.zoo.registry import get_entry, pose_run_config

    rows = []
    wanted = [b for b in BENCHMARKS if benchmarks is None or b.name in benchmarks]
    for bench in wanted:
        names = [m for m in models if get_entry(m).keypoints == bench.keypoints]
        if not names:
            continue
        missing = missing_files(data_root, bench)
        if missing:
            rows += [{"benchmark": bench.name, "model": m, "reason": f"missing {', '.join(missing)}"} for m in names]
            continue
        for name in names:
            entry = get_entry(name)
            cfg = pose_run_config(entry)
            dataset = _dataset(data_root, bench, cfg)
            if max_images is not None:
                keep = sorted({int(i.image_id) for i in dataset.instances})[:max_images]
                dataset.instances = [i for i in dataset.instances if int(i.image_id) in set(keep)]
            log = Path(out_dir) / "predictions" / f"{bench.name}__{name}.jsonl"
            plain, flip, timing = predict_resumable(onnx_of(entry, progress=progress), dataset,
                                                    codec=build_codec(cfg.codec),
                                                    flip_indices=dataset.metainfo.flip_indices, log=log,
                                                    batch_size=batch_size, threads=threads, progress=progress)
            boxes = "detections" if benchmark_files(data_root, bench)["bbox"] else "ground truth"
            for flip_test, results in ((False, plain), (True, flip)):
                metrics = _score(dataset, bench, results)
                published = entry.published if (flip_test and PUBLISHED_ON.get(entry.keypoints) == bench.name
                                                 and max_images is None) else math.nan
                table, row = PAPER_ROWS.get(name, ("", ""))
                headline = "PCKh@0.5" if "PCKh@0.5" in metrics else "AP"
                paper_bench = "coco-det" if table == "4" else PUBLISHED_ON[entry.keypoints]
                on_paper_protocol = bool(table) and flip_test == (table != "4") and bench.name == paper_bench
                column = "whole-body AP" if table == "6" else headline
                rows.append({"benchmark": bench.name, "model": name, "boxes": boxes, "flip_test": flip_test,
                             "metric": headline, "ours": metrics[headline], "published": published,
                             "paper_table": table if on_paper_protocol else "",
                             "paper_row": row if on_paper_protocol else "",
                             "paper": _paper_value(table, row, column) if on_paper_protocol else math.nan,
                             "instances": len(dataset), "images": len({int(i.image_id) for i in dataset.instances}),
                             **timing, **{f"m:{k}": v for k, v in metrics.items()}, "reason": ""})
    return pd.DataFrame(rows)


def paper_columns(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Our numbers in the paper's layout, per table: ``{"4": long frame (row, column, value), ...}`` for
    :func:`rtmposelib.suite.paper.export_side_by_side`."""
    out: dict[str, list] = {}
    if frame.empty or "paper_table" not in frame:
        return {}
    for _, r in frame[frame["paper_table"].fillna("") != ""].iterrows():
        cells = out.setdefault(str(r["paper_table"]), [])
        if r["paper_table"] == "6":
            for part in ("whole-body", "body", "foot", "face", "hand"):
                for stat in ("AP", "AR"):
                    column = f"{part} {stat}"
                    cells.append({"row": r["paper_row"], "column": column, "value": r.get(f"m:{column}")})
        else:
            cells.append({"row": r["paper_row"], "column": r["metric"], "value": r["ours"]})
    return {t: pd.DataFrame(c) for t, c in out.items()}


def zoo_eval_metrics(frame: pd.DataFrame) -> dict:
    """Flat metrics: ``<benchmark>_<model>_<flip|noflip>`` -> ours, plus counts and the mean ms per crop."""
    out: dict = {"evaluated": 0, "missing": 0}
    if frame.empty:
        return out
    for _, r in frame.iterrows():
        if r.get("reason"):
            out["missing"] += 1
            continue
        out["evaluated"] += 1
        out[f"{r['benchmark']}_{r['model']}_{'flip' if r['flip_test'] else 'noflip'}"] = float(r["ours"])
    if "ms_per_crop" in frame and frame["ms_per_crop"].notna().any():
        out["ms_per_crop"] = float(frame["ms_per_crop"].dropna().mean())
    return out
