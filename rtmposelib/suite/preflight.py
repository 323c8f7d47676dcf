"""``rtmpose suite --scale paper --check``: everything a paper-scale run needs, checked before anything trains.

Problems (each one line; the check exits 1 when there is any):
- the COCO layout under the paper scale's data root (``$RTMPOSE_COCO``, default ``data/coco``): both
  keypoint files, both image folders (not empty), and the official detection file of the val protocol;
- the ImageNet CSPNeXt checkpoint (``--imagenet-backbone``; ``{size}`` is filled per model size): given,
  present, a PyTorch archive; or a released one (``zoo:cspnext-{size}-imagenet``, fetched when a run starts);
- GPUs: at least one visible for a local run (a cluster run asks the scheduler for its own);
- free disk under the results root for the checkpoints the plan will write.

Information: the datasets ``zoo_eval`` will find, the cluster request, and an estimated time per entry.
The training estimate is images seen x the training cost per image (3 x the forward FLOPs, counted as
the model zoo counts them, x 2 FLOPs per multiply-add) over an assumed effective throughput per GPU
(``--gpu-tflops``, default :data:`GPU_TFLOPS`: a mid-range data-centre GPU with mixed precision at
realistic utilisation). Data loading often bounds small models, so read it as a lower bound.
"""
from __future__ import annotations

import argparse
import functools
import shutil
import zipfile
from pathlib import Path

COCO_TRAIN_INSTANCES = 149_813           # people with keypoints in COCO train2017 (the official count)
GPU_TFLOPS = 20.0                        # assumed effective training throughput per GPU, TFLOP/s
CHECKPOINT_COPIES = 2                    # last.pth and best.pth per training run
DISK_MARGIN_GB = 10.0

TRAINING_NOTEBOOKS = ("train_step", "train_size", "pretrain_heatmap")


def coco_problems(root: str | Path) -> list[str]:
    """Every missing piece of the COCO tree at ``root`` (one string per piece)."""
    from rtmposelib.experiments.zoo_eval import COCO_DET

    root = Path(root)
    if not root.is_dir():
        return [f"COCO root {root} does not exist (set $RTMPOSE_COCO or place COCO at data/coco)"]
    problems = []
    for rel in ("annotations/person_keypoints_train2017.json", "annotations/person_keypoints_val2017.json"):
        if not (root / rel).is_file():
            problems.append(f"COCO keypoint file missing: {root / rel}")
    for rel in ("train2017", "val2017"):
        d = root / rel
        if not d.is_dir():
            problems.append(f"COCO image folder missing: {d}")
        elif next(d.iterdir(), None) is None:
            problems.append(f"COCO image folder is empty: {d}")
    if not (root / COCO_DET).is_file():
        problems.append(f"COCO detection file missing: {root / COCO_DET} (the val protocol with detector boxes)")
    return problems


def backbone_problems(imagenet_backbone: str, sizes) -> list[str]:
    """The ImageNet checkpoint(s): given, present, a PyTorch archive."""
    if not imagenet_backbone:
        return ["no --imagenet-backbone: the runs the paper starts from ImageNet would start from random "
                "initialisation (pass zoo:cspnext-{size}-imagenet for the released ones)"]
    paths = sorted({imagenet_backbone.replace("{size}", s) for s in sizes})
    problems = []
    for spec in [p for p in paths if p.startswith("zoo:")]:     # released: downloaded when a run starts
        from rtmposelib.zoo.download import parse

        try:
            entry = parse(spec)[0]
        except ValueError as err:
            problems.append(f"--imagenet-backbone {spec}: {err}")
            continue
        if entry.kind != "backbone":
            problems.append(f"--imagenet-backbone {spec}: {entry.file_name} is a {entry.kind}, not a backbone")
    for p in [Path(p) for p in paths if not p.startswith("zoo:")]:
        if not p.is_file():
            problems.append(f"ImageNet backbone checkpoint missing: {p}")
        elif not zipfile.is_zipfile(p):
            problems.append(f"ImageNet backbone checkpoint is not a PyTorch archive (truncated?): {p}")
    return problems


def gpu_problems(executor: str) -> tuple[list[str], str]:
    """(problems, information) about GPUs."""
    import torch

    n = torch.cuda.device_count()
    if executor != "local":
        return [], f"GPUs here: {n} (a cluster run asks the scheduler for its own)"
    if n == 0:
        return ["no GPU visible (torch.cuda.device_count() == 0): the paper scale trains on GPUs"], "GPUs: 0"
    return [], f"GPUs: {n} ({torch.cuda.get_device_name(0)})"


def entry_config(entry):
    """The RunConfig a training entry trains at paper scale (None for the other notebooks)."""
    from rtmposelib.config import rtmpose
    from rtmposelib.experiments.runs import pretrain_config
    from rtmposelib.roadmap import for_step
    from rtmposelib.suite.scales import at_scale

    p = entry.parameters
    if entry.notebook == "pretrain_heatmap":
        return pretrain_config("paper")
    if entry.notebook == "train_size":
        return at_scale(rtmpose(p["size"]), "paper")
    if entry.notebook == "train_step":
        return at_scale(for_step(p["step"]), "paper")
    return None


@functools.cache
def _model_cost(model_cfg) -> tuple[float, int]:
    """(GFLOPs as the model zoo counts them, parameters) of a model config."""
    from rtmposelib.export.complexity import complexity
    from rtmposelib.models.pose_model import build_model

    return float(complexity(model_cfg)["gflops"]), sum(p.numel() for p in build_model(model_cfg).parameters())


def estimate_hours(cfg, *, gpus: int, gpu_tflops: float = GPU_TFLOPS) -> float:
    """Training hours of ``cfg`` on ``gpus`` GPUs (module docstring)."""
    flops_per_image = 3 * 2 * _model_cost(cfg.model)[0] * 1e9
    images = cfg.train.epochs * COCO_TRAIN_INSTANCES
    return images * flops_per_image / (max(1, gpus) * gpu_tflops * 1e12) / 3600


def checkpoint_gb(cfg) -> float:
    """Disk of one training run's checkpoints: weights, EMA copy and AdamW's two moments, float32."""
    return CHECKPOINT_COPIES * 4 * _model_cost(cfg.model)[1] * 4 / 1e9


def preflight(entries, *, coco_root: str | Path, imagenet_backbone: str, results_root: str | Path,
              executor: str = "local", gpus: int = 8, gpu_tflops: float = GPU_TFLOPS,
              data_root: str | Path | None = None) -> tuple[list[str], list[str]]:
    """(problems, information lines) of a paper-scale run of ``entries``."""
    from rtmposelib.experiments import zoo_eval
    from rtmposelib.suite.scales import get_scale

    problems = coco_problems(coco_root)
    problems += backbone_problems(imagenet_backbone, get_scale("paper").model_sizes)
    gpu_issues, gpu_info = gpu_problems(executor)
    problems += gpu_issues
    info = [gpu_info]
    need_gb, total_h = DISK_MARGIN_GB, 0.0
    for e in entries:
        cfg = entry_config(e) if e.notebook in TRAINING_NOTEBOOKS else None
        if cfg is None:
            info.append(f"estimate {e.name}: no training (evaluation / tables), minutes to hours")
            continue
        hours = estimate_hours(cfg, gpus=gpus, gpu_tflops=gpu_tflops)
        total_h += hours
        need_gb += checkpoint_gb(cfg)
        info.append(f"estimate {e.name}: {hours:.1f} h on {gpus} GPUs ({cfg.train.epochs} epochs, {cfg.name})")
    info.append(f"estimate total training: {total_h:.0f} GPU-node hours at {gpu_tflops:g} TFLOP/s per GPU "
                f"(a lower bound; entries without dependencies between them can run at once on a cluster)")
    root = Path(results_root).resolve()
    probe = next((p for p in (root, *root.parents) if p.exists()), Path("/"))
    free_gb = shutil.disk_usage(probe).free / 1e9
    info.append(f"disk: {free_gb:.0f} GB free under {probe}, about {need_gb:.0f} GB needed")
    if free_gb < need_gb:
        problems.append(f"not enough free disk under {probe}: {free_gb:.0f} GB free, about {need_gb:.0f} GB needed "
                        f"for the checkpoints of {sum(e.notebook in TRAINING_NOTEBOOKS for e in entries)} runs")
    root_data = Path(data_root) if data_root else zoo_eval.default_data_root()
    present = [b.name for b in zoo_eval.BENCHMARKS if not zoo_eval.missing_files(root_data, b)]
    info.append(f"zoo_eval datasets present under {root_data}: {', '.join(present) or 'none'}")
    return problems, info


def run_check(args: argparse.Namespace, entries) -> int:
    """``rtmpose suite --check``: print the information, then one line per problem; 1 if any problem."""
    from rtmposelib.suite.executors import describe, load_cluster_config
    from rtmposelib.suite.scales import get_scale

    if args.scale != "paper":
        raise ValueError(f"--check is the paper scale's preflight; got --scale {args.scale}")
    gpus = args.gpus or 8
    problems, info = preflight(entries, coco_root=get_scale("paper").data_source,
                               imagenet_backbone=args.imagenet_backbone, results_root=args.results,
                               executor=args.executor, gpus=gpus)
    if args.executor != "local":
        config = load_cluster_config(args.slurm_config, partition=args.partition, gpus=args.gpus, cpus=args.cpus,
                                     mem_gb=args.mem_gb, time_min=args.time_min)
        info.append(f"cluster request: {describe(config)}")
    for line in info:
        print(f"[check] {line}")
    for line in problems:
        print(f"problem: {line}")
    print(f"[check] {len(problems)} problem(s)")
    return 1 if problems else 0
