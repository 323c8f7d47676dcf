"""Training data pipeline throughput: crops/s at 256x192 in one process on one thread (strong stage).

Ours is ``TopdownCocoDataset[i]`` with the stage-1 pipeline of RTMPose-s (``--stage weak``: stage 2):
JPEG read and decode (every crop, no image cache), flip / half-body / random box transform folded into
one affine warp, HSV jitter, blur, median blur, cutout, SimCC targets, the crop packed as a (3, H, W) uint8
tensor. As in MMPose, normalisation to float is not part of the pipeline: it runs on the batch in the
training step (MMPose's data preprocessor), which ``bench_peer_train_step.py`` times on both sides.

Reference, measured in the same run on the same instances:

* with ``--peer-python`` and ``--peer-script`` (the official MMPose harness, run in its own Python):
  MMPose's own ``CocoDataset`` and the config's ``train_pipeline``, started as a subprocess; the two sides
  alternate round by round (``--rounds``, order swapped every round, so an even count runs each side
  first equally often) so that load from other processes hits both alike. The harness prints its
  per-transform breakdown, shown beside ours.
* otherwise: the plain val-time path (decode, crop the padded box, pack), no augmentation.

Crops/s is the median over rounds, the ratio the median of the rounds' ratios. Like the harness,
ours is timed with a timer around each step of the real pipeline (a wrapper of well under 1 us per
step on a crop of milliseconds), so both breakdowns come from the same rounds as the rates.

    python benchmarks/bench_data_pipeline.py --data DIR [--peer-python PY --peer-script FILE]
        [--rounds 6] [--seconds 5]

DIR is a COCO-format root holding ``--ann`` and its images (default: a SynthPose smoke set).
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")                           # one thread, as the harness (before numpy)

import cv2  # noqa: E402
import torch  # noqa: E402

from rtmposelib.codecs import build_codec  # noqa: E402
from rtmposelib.config import preset  # noqa: E402
from rtmposelib.data import augment as augment_module  # noqa: E402
from rtmposelib.data import coco as coco_module  # noqa: E402
from rtmposelib.data.coco import TopdownCocoDataset  # noqa: E402
from rtmposelib.data.metainfo import get_metainfo  # noqa: E402
from rtmposelib.data.preprocess import pack_crop, warp_crop  # noqa: E402

# Our steps, named after the MMPose transform they stand for: (row, module, attribute).
# The flip draws its decision and moves keypoints / centre; its pixels are part of the one warp.
STEPS = (
    ("LoadImage", TopdownCocoDataset, "load_image"),
    ("RandomFlip", augment_module, "flip_instance"),
    ("RandomHalfBody", augment_module, "half_body"),
    ("RandomBBoxTransform", augment_module, "random_bbox_transform"),
    ("TopdownAffine", augment_module, "topdown_affine"),
    ("YOLOXHSVRandomAug", augment_module, "hsv_jitter"),
    ("Albumentation", augment_module, "box_blur"),
    ("Albumentation", augment_module, "median_blur"),
    ("Albumentation", augment_module, "coarse_dropout"),
    ("GenerateTarget", None, "encode"),                        # the dataset's codec
    ("PackPoseInputs", coco_module, "pack_crop"),
    ("sample_rng", coco_module, "sample_rng"),
)
MMPOSE_ROWS = ("LoadImage", "GetBBoxCenterScale", "RandomFlip", "RandomHalfBody", "RandomBBoxTransform",
               "TopdownAffine", "YOLOXHSVRandomAug", "Albumentation", "GenerateTarget", "PackPoseInputs")


def build_dataset(ann_file: Path, image_dir: Path, stage: str = "strong") -> TopdownCocoDataset:
    cfg = preset("rtmpose-s")
    dataset = TopdownCocoDataset(ann_file=ann_file, image_dir=image_dir, metainfo=get_metainfo("coco"),
                                 codec=build_codec(cfg.codec), input_size=cfg.codec.input_size,
                                 augment=cfg.aug_stage1 if stage == "strong" else cfg.aug_stage2, seed=0)
    dataset.image_cache = None                                 # decode every crop, as MMPose's LoadImage
    return dataset


def crops_per_second(fn, n_items: int, seconds: float) -> float:
    """Cycle fn(0..n_items-1) for at least ``seconds``; crops / wall time."""
    fn(0)                                                      # warm-up
    count, start = 0, time.perf_counter()
    while True:
        for i in range(n_items):
            fn(i)
        count += n_items
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


@contextlib.contextmanager
def timed_steps(dataset: TopdownCocoDataset, acc: dict):
    """Wrap every step of :data:`STEPS` with a timer adding to ``acc[row]`` (seconds); restored on exit."""
    patched = []

    def wrap(row, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[row] = acc.get(row, 0.0) + time.perf_counter() - t0
        return timed

    for row, owner, name in STEPS:
        owner = dataset.codec if owner is None else dataset if owner is TopdownCocoDataset else owner
        patched.append((owner, name, name in vars(owner), getattr(owner, name)))
        setattr(owner, name, wrap(row, getattr(owner, name)))
    try:
        yield
    finally:
        for owner, name, own, original in reversed(patched):
            if own:
                setattr(owner, name, original)
            else:                                              # a method: drop the instance attribute
                delattr(owner, name)


PASSES = itertools.count()   # every pass over the instances is a new epoch, so each draws afresh


def timed_round(dataset: TopdownCocoDataset, seconds: float, acc: dict, totals: list) -> float:
    """One round of ours with every step timed, as the harness times its transforms: crops/s; adds the
    steps' seconds to ``acc`` and (crops, seconds) to ``totals``. Each pass over the instances is a new
    epoch of the dataset: augmentation is a function of (seed, epoch, index), and repeating one epoch's
    few draws (12 instances on the sample) would fix which crops get the optional steps, where the
    harness's MMPose draws anew for every crop."""
    n = len(dataset)
    with timed_steps(dataset, acc):
        before = dict(acc)
        dataset[0]                                             # warm-up, not counted
        acc.clear()
        acc.update(before)
        count, start = 0, time.perf_counter()
        while True:
            dataset.set_epoch(next(PASSES))
            for i in range(n):
                dataset[i]
            count += n
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
    totals.append((count, elapsed))
    return count / elapsed


def breakdown_ms(acc: dict, totals: list) -> dict:
    """ms per crop of each step over all rounds, and the rest of ``dataset[i]`` (dict, tensor, glue)."""
    crops, seconds = sum(c for c, _ in totals), sum(t for _, t in totals)
    out = {row: 1e3 * t / crops for row, t in acc.items()}
    out["rest of the item"] = 1e3 * (seconds - sum(acc.values())) / crops
    return out


def run_peer(python: str, script: str, data: Path, seconds: float, stage: str) -> dict:
    """One round of the official harness (one pipeline, one repeat); its RESULT json."""
    cmd = [python, script, "--seconds", str(seconds), "--repeats", "1", "--pipelines", stage,
           "--data", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    results = [line[len("RESULT "):] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not results:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"peer harness {script} failed (exit {proc.returncode}): {tail[0]}")
    return json.loads(results[-1])


def mmpose_rows(breakdown: dict) -> dict:
    """The harness's ``NN_Name`` keys -> transform names (repeated transforms summed)."""
    rows: dict = {}
    for key, ms in breakdown.items():
        name = key.split("_", 1)[1] if key[:2].isdigit() else key
        rows[name] = rows.get(name, 0.0) + ms
    return rows


def print_breakdown(ours: dict, peer: dict | None) -> None:
    print("  per-transform ms/crop" + (" (MMPose = the harness's own breakdown; both over all rounds)" if peer else ""))
    print(f"    {'step':28s} {'MMPose':>8s} {'ours':>8s}" if peer else f"    {'step':28s} {'ours':>8s}")
    rows = list(MMPOSE_ROWS) + [r for r in ours if r not in MMPOSE_ROWS]
    if peer:
        rows += [r for r in peer if r not in rows]
    for row in rows:
        o = ours.get(row)
        o_txt = f"{o:8.3f}" if o is not None else f"{'-':>8s}"
        if peer:
            p = peer.get(row)
            p_txt = f"{p:8.3f}" if p is not None else f"{'-':>8s}"
            print(f"    {row:28s} {p_txt} {o_txt}")
        else:
            print(f"    {row:28s} {o_txt}")
    o_sum = sum(ours.values())
    print(f"    {'sum':28s} " + (f"{sum(peer.values()):8.3f} " if peer else "") + f"{o_sum:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="COCO-format root (default: SynthPose smoke)")
    parser.add_argument("--ann", default="test_coco.json", help="annotation file inside --data")
    parser.add_argument("--peer-python", default=None, help="Python of the official MMPose environment")
    parser.add_argument("--peer-script", default=None, help="the official-side harness bench_data_pipeline.py")
    parser.add_argument("--stage", choices=("strong", "weak"), default="strong",
                        help="augmentation stage: strong (stage 1) or weak (stage 2)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds, even: both orders equally")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per side per round")
    args = parser.parse_args()
    if (args.peer_python is None) != (args.peer_script is None):
        parser.error("--peer-python and --peer-script go together")
    if args.peer_python and args.data is None:
        parser.error("--peer-* needs --data: both sides must read the same COCO-format sample")
    for what, path in (("--peer-python", args.peer_python), ("--peer-script", args.peer_script),
                       ("--data", args.data)):
        if path is not None and not Path(path).exists():
            parser.error(f"{what} {path} does not exist (the peer venv is made by the harness's setup.sh)"
                         if what.startswith("--peer") else f"{what} {path} does not exist")
    cv2.setNumThreads(1)                                       # one worker = one core, as the harness
    torch.set_num_threads(1)

    if args.data is None:
        from rtmposelib.data.synthetic import make_synthpose
        root, cfg = make_synthpose("smoke"), preset("rtmpose-s")
        dataset = build_dataset(root / cfg.data.train_ann, root / cfg.data.train_images, args.stage)
        where = "SynthPose smoke"
    else:
        dataset = build_dataset(args.data / args.ann, args.data, args.stage)
        where = f"{args.data.name}/{args.ann}"
    n = len(dataset)
    print(f"{where}: {n} instances, {args.stage} stage, input 256x192, 1 process, cv2 {cv2.getNumThreads()} "
          f"thread, torch {torch.get_num_threads()} thread, load average {os.getloadavg()[0]:.2f}")

    def crop_only(i: int) -> None:
        inst = dataset.instances[i % n]
        crop, _ = warp_crop(dataset.load_image(inst), inst.center, inst.box_size * 1.25, dataset.input_size)
        pack_crop(crop)

    our_rates, ref_rates, peer_rows, acc, totals = [], [], [], {}, []
    for r in range(args.rounds):
        sides = ["ref", "ours"] if r % 2 == 0 else ["ours", "ref"]
        for side in sides:
            if side == "ours":
                our_rates.append(timed_round(dataset, args.seconds, acc, totals))
            elif args.peer_python:
                res = run_peer(args.peer_python, args.peer_script, args.data, args.seconds, args.stage)
                ref_rates.append(float(res["crops_per_s_median"]))
                peer_rows.append(mmpose_rows(res["ms_per_crop_breakdown"]))
            else:
                ref_rates.append(crops_per_second(crop_only, n, args.seconds))
        print(f"  round {r + 1}: ours {our_rates[-1]:7.1f}  {'MMPose' if args.peer_python else 'crop-only'} "
              f"{ref_rates[-1]:7.1f} crops/s  ratio {our_rates[-1] / ref_rates[-1]:.2f}", flush=True)
    breakdown = breakdown_ms(acc, totals)
    peer = None
    if peer_rows:
        # per crop over all rounds, as ours: each round weighted by its crops (rate x equal seconds)
        peer = {k: sum(rate * rows.get(k, 0.0) for rate, rows in zip(ref_rates, peer_rows)) / sum(ref_rates)
                for k in peer_rows[0]}
    print_breakdown(breakdown, peer)
    ours_med, ref_med = statistics.median(our_rates), statistics.median(ref_rates)
    paired = statistics.median(o / r for o, r in zip(our_rates, ref_rates))   # each round's pair
    if args.peer_python:
        for label, rate in ((f"MMPose 1.3.2 {args.stage} pipeline (official harness):", ref_med),
                            (f"ours, {args.stage} pipeline:", ours_med)):
            print(f"  {label:50s}{rate:8.1f} crops/s ({1e3 / rate:.2f} ms)")
        print(f"  ratio ours / MMPose: {paired:.2f} (median of the {args.rounds} rounds' ratios; ratio of the "
              f"medians {ours_med / ref_med:.2f}; load average now {os.getloadavg()[0]:.2f})")
    else:
        print(f"  reference crop-only (decode + crop + pack): {ref_med:8.1f} crops/s")
        print(f"  {args.stage} pipeline (+ aug + SimCC targets): {ours_med:8.1f} crops/s")
        print(f"  ratio {args.stage} / crop-only: {paired:.2f} (median of the {args.rounds} rounds' ratios)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
