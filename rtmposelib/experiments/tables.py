"""The paper's tables at small scale: Table 1 (complexity), the evaluation protocols of Tables 4 / 5,
Tables 8 / 9 on the real sample sets, Table 6 (COCO-WholeBody) as an oracle run, and the paper's
values beside ours (``rtmposelib/reference/paper_tables.csv``).

Real samples are read from ``samples_root`` (a folder laid out like the project's shared sample data:
``coco/``, ``crowdpose/``, ``aic/``, ``mpii/``, ``ap10k/``, ``posetrack18/``); by default the
``shared/data`` folder beside the project when present. Missing samples give a row with the reason,
never an error. AP in percent.
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from rtmposelib.experiments.runs import COCO_STATS, load_trained
from rtmposelib.scales import get_scale


def shared_data_dir(samples_root: str | Path | None = None) -> Path | None:
    """The real data samples: ``samples_root`` if given (relative paths from the project root), else
    the ``shared/data`` folder beside the project; None when the folder is absent."""
    from rtmposelib.suite import PROJECT_ROOT

    if samples_root:
        d = Path(samples_root)
        d = d if d.is_absolute() else PROJECT_ROOT / d
    else:
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

def _sample_data(name: str, ann: str, det: str | None, samples_root: str | Path | None = None):
    from rtmposelib.config import DataConfig

    root = shared_data_dir(samples_root)
    if root is None or not (root / name / ann).is_file():
        return None
    return DataConfig(source=str(root / name), train_ann=ann, train_images=".", val_ann=ann, val_images=".",
                      val_bbox_file=det, dataset="coco", num_workers=0)


def eval_protocols_frame(results_root: str | Path, scale: str, *, samples_root: str | Path | None = None) -> pd.DataFrame:
    """Tables 4 / 5 / 11 protocols on the final roadmap model: ground-truth vs detector boxes, with and
    without flip test, on SynthPose val and on the COCO val sample (when ``../shared/data`` is present).
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
    from rtmposelib import paper

    return {f"paper_table{n}": paper.paper_table(n).reset_index() for n in numbers}
