"""Training step against the official MMPose code: images/s of ours and MMPose's, alternating, and the ratio.

One step is forward + KL loss + backward + AdamW step on a batch already in memory (no loader, no EMA,
no lr schedule), RTMPose-t and -s at 256x192, batch 32, 2 threads, warm-up 2 + 8 timed steps,
images/s = batch / median step time. The official side is the MMPose peer harness's
``bench_train_step.py`` run by the peer environment's python (``--peer-python``/``--peer-script``, or
$RTMPOSE_PEER_PYTHON / $RTMPOSE_PEER_TRAIN_STEP); MMPose is never imported here. Our side is this file run
with ``--side ours`` in a child process of the project's python, with the same models, batch, threads
and protocol, on a batch built the same way: the stage-1 pipeline run once over the sample COCO
instances (``--data``, default the samples folder's ``coco``), repeated cyclically to the batch size.
Both sides start from random weights. The two alternate for ``--rounds`` rounds, in swapped order
every round; the median over rounds is compared.

Our step runs with the training defaults (channels_last, fused AdamW, flushed denormals, float32);
``--variants default,bf16,before`` adds bfloat16 autocast and the settings before the speed work.

    python benchmarks/bench_peer_train_step.py --peer-python PY --peer-script FILE [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

PROTOCOL = {"batch_size": 32, "threads": 2, "warmup": 2, "steps": 8}
VARIANTS = {
    "default": {},
    "bf16": {"bf16": True},
    "before": {"channels_last": False, "optimizer_impl": "for_loop", "flush_denormal": False},
}


def sample_batch(cfg, batch_size: int, data: Path | None):
    """(images, targets) of ``batch_size`` crops: the stage-1 pipeline over the sample COCO instances,
    repeated cyclically; random crops with codec targets when the samples are absent."""
    import numpy as np
    import torch
    from torch.utils.data import default_collate

    from rtmposelib.codecs import build_codec
    from rtmposelib.data.coco import TopdownCocoDataset
    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.train.loop import TARGET_KEYS

    codec = build_codec(cfg.codec)
    if data is not None and (data / "test_coco.json").is_file():
        ds = TopdownCocoDataset(ann_file=data / "test_coco.json", image_dir=data, metainfo=get_metainfo("coco"),
                                codec=codec, input_size=cfg.codec.input_size, augment=cfg.aug_stage1, seed=0)
        items = [ds[i] for i in range(len(ds))]
        batch = default_collate([items[i % len(items)] for i in range(batch_size)])
        source = f"{len(items)} sample instances through the stage-1 pipeline"
    else:
        w, h = cfg.codec.input_size
        rng = np.random.default_rng(0)
        kpts = rng.uniform([0, 0], [w, h], size=(batch_size, cfg.model.num_keypoints, 2)).astype(np.float32)
        batch = {k: torch.from_numpy(v) for k, v in codec.encode(kpts, np.ones(kpts.shape[:2], np.float32)).items()}
        batch["image"] = torch.randn(batch_size, 3, h, w)
        source = "random crops (sample COCO data absent)"
    return batch["image"], {k: batch[k] for k in TARGET_KEYS if k in batch}, source


def our_side(models: list[str], variants: list[str], data: Path | None) -> None:
    """Time our training step; print one ``RESULT {json}`` line per model and variant."""
    import torch

    from rtmposelib.config import preset
    from rtmposelib.losses import build_loss
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.loop import optimisation_step
    from rtmposelib.train.optim import build_optimizer
    from rtmposelib.train.speed import flushing_denormals, prepare_model

    torch.set_num_threads(PROTOCOL["threads"])
    bs = PROTOCOL["batch_size"]
    for variant_name in variants:
        for m in models:
            base = preset(f"rtmpose-{m}")
            cfg = replace(base, train=replace(base.train, **VARIANTS[variant_name]))
            images, targets, source = sample_batch(cfg, bs, data)
            torch.manual_seed(0)
            model = prepare_model(build_model(cfg.model).train(), cfg.train)
            optimizer, loss_fn = build_optimizer(model, cfg.train), build_loss(cfg.loss)
            scaler = torch.amp.GradScaler("cuda", enabled=False)
            times = []
            with flushing_denormals(cfg.train.flush_denormal):
                for i in range(PROTOCOL["warmup"] + PROTOCOL["steps"]):
                    start = time.perf_counter()
                    loss = optimisation_step(model, model, loss_fn, optimizer, images, targets, cfg=cfg,
                                             scaler=scaler)
                    if i >= PROTOCOL["warmup"]:
                        times.append(time.perf_counter() - start)
            step = statistics.median(times)
            print("RESULT " + json.dumps({"model": f"rtmpose-{m}", "variant": variant_name, "batch_size": bs,
                                          "threads": PROTOCOL["threads"], "imgs_per_s_median": bs / step,
                                          "step_ms_median": 1e3 * step, "loss_last": float(loss),
                                          "data": source}), flush=True)


def run(cmd: list[str]) -> list[dict]:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{Path(cmd[1]).name} failed (exit {proc.returncode}): {tail[0]}")
    return [json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=("both", "ours"), default="both")
    parser.add_argument("--models", default="t,s")
    parser.add_argument("--variants", default="default,bf16", help=f"ours: any of {','.join(VARIANTS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="folder with test_coco.json and its images")
    parser.add_argument("--peer-python", default=os.environ.get("RTMPOSE_PEER_PYTHON"))
    parser.add_argument("--peer-script", default=os.environ.get("RTMPOSE_PEER_TRAIN_STEP"),
                        help="the peer harness's bench_train_step.py")
    args = parser.parse_args()
    models, variants = args.models.split(","), args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}")
    data = args.data
    if data is None:
        from rtmposelib.data.samples import samples_dir
        root = samples_dir()
        data = None if root is None else root / "coco"
    if args.side == "ours":
        our_side(models, variants, data)
        return
    for name, path in (("--peer-python", args.peer_python), ("--peer-script", args.peer_script)):
        if not path or not Path(path).is_file():
            print(f"# {name} {path!r} does not exist (the MMPose peer environment's python and its "
                  "bench_train_step.py): our side only, no ratio", flush=True)
            our_side(models, variants, data)
            return
    peer_cmd = [args.peer_python, args.peer_script, "--models", args.models,
                "--batch-sizes", str(PROTOCOL["batch_size"]), "--threads", str(PROTOCOL["threads"]),
                "--warmup", str(PROTOCOL["warmup"]), "--steps", str(PROTOCOL["steps"])]
    our_cmd = [sys.executable, __file__, "--side", "ours", "--models", args.models, "--variants", args.variants]
    if data is not None:
        our_cmd += ["--data", str(data)]
    from tqdm import tqdm

    speeds: dict[tuple[str, str], list[float]] = {}
    start = time.perf_counter()
    # one step per side's process, on stderr and only on a terminal: stdout stays as it is
    bar = tqdm(total=2 * args.rounds, desc="runs", file=sys.stderr, disable=None, leave=False)
    for r in range(args.rounds):
        order = [("mmpose", peer_cmd), ("ours", our_cmd)]
        for side, cmd in order if r % 2 == 0 else order[::-1]:
            bar.set_postfix_str(f"round {r + 1}, {side}")
            for res in run(cmd):
                key = (res["model"], "mmpose" if side == "mmpose" else f"ours:{res['variant']}")
                speeds.setdefault(key, []).append(res["imgs_per_s_median"])
            bar.update()
        with tqdm.external_write_mode(file=sys.stdout):
            print(f"# round {r + 1}: " + ", ".join(f"{m} {s} {v[-1]:.1f}" for (m, s), v in sorted(speeds.items())),
                  flush=True)
    bar.close()
    print(f"Training step, ours vs MMPose 1.3.2 (forward + loss + backward + AdamW), 256x192, batch "
          f"{PROTOCOL['batch_size']}, {PROTOCOL['threads']} threads, warm-up {PROTOCOL['warmup']} + "
          f"{PROTOCOL['steps']} steps, median of {args.rounds} alternating rounds; {os.cpu_count()} CPUs; "
          f"{time.perf_counter() - start:.0f} s")
    print(f"{'model':<11}{'side':<14}{'images/s':>9}{'ours/MMPose':>13}   rounds")
    for m in models:
        model = f"rtmpose-{m}"
        ref = statistics.median(speeds[(model, "mmpose")])
        for side in ["mmpose"] + [f"ours:{v}" for v in variants]:
            v = statistics.median(speeds[(model, side)])
            ratio = "" if side == "mmpose" else f"{v / ref:.2f}"
            print(f"{model:<11}{side:<14}{v:>9.1f}{ratio:>13}   " + " ".join(f"{x:.1f}" for x in speeds[(model, side)]))


if __name__ == "__main__":
    main()
