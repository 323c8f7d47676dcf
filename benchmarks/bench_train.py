"""CPU training throughput: images/s of one training step (forward + backward + AdamW step).

RTMPose-t and -s at 256x192 (the official recipe: KL loss on SimCC labels, AdamW with the official
decay groups; the training loop's step with its default speed settings), beside timm's resnet18
trained with cross-entropy at the same input and batch, measured in the same run; the ratio ours /
reference is what to compare across machines. The models are timed in interleaved rounds and the
median round is reported, so that load from other processes on a shared machine hits all of them alike.

    OMP_NUM_THREADS=2 python benchmarks/bench_train.py [--batch-size 32] [--steps 3] [--rounds 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from rtmposelib.codecs import build_codec
from rtmposelib.config import preset
from rtmposelib.losses import build_loss
from rtmposelib.models.pose_model import build_model
from rtmposelib.train.loop import optimisation_step
from rtmposelib.train.optim import build_optimizer
from rtmposelib.train.speed import prepare_model


def images_per_s(step, batch_size: int, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def rtmpose_step(name: str, batch_size: int):
    cfg = preset(name)
    torch.manual_seed(0)
    model = prepare_model(build_model(cfg.model).train(), cfg.train)
    loss_fn = build_loss(cfg.loss)
    optimizer = build_optimizer(model, cfg.train)
    w, h = cfg.model.input_size
    rng = np.random.default_rng(0)
    kpts = rng.uniform([0, 0], [w, h], size=(batch_size, cfg.model.num_keypoints, 2)).astype(np.float32)
    enc = build_codec(cfg.codec).encode(kpts, np.ones(kpts.shape[:2], np.float32))
    targets = {k: torch.from_numpy(v) for k, v in enc.items()}
    images = torch.randn(batch_size, 3, h, w)

    scaler = torch.amp.GradScaler("cuda", enabled=False)

    def step():
        optimisation_step(model, model, loss_fn, optimizer, images, targets, cfg=cfg, scaler=scaler)
    return step


def resnet18_step(batch_size: int, input_size: tuple[int, int]):
    import timm
    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False, num_classes=1000).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    images = torch.randn(batch_size, 3, input_size[1], input_size[0])
    labels = torch.randint(0, 1000, (batch_size,))

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)                                 # as the training loop
    bs = args.batch_size
    steps = {"resnet18": resnet18_step(bs, (192, 256)),
             "rtmpose-t": rtmpose_step("rtmpose-t", bs), "rtmpose-s": rtmpose_step("rtmpose-s", bs)}
    for step in steps.values():                                    # warm-up: one step each
        step()
    rounds = {name: [] for name in steps}
    # stderr, and only on a terminal: the table on stdout stays as it is
    for _ in tqdm(range(args.rounds), desc="rounds", file=sys.stderr, disable=None, leave=False):
        for name, step in steps.items():
            rounds[name].append(images_per_s(step, bs, args.steps))
    speed = {name: float(np.median(v)) for name, v in rounds.items()}
    ref = speed["resnet18"]
    print(f"CPU training step (forward + backward + AdamW), 256x192, batch {bs}, {args.threads} threads, "
          f"torch {torch.__version__}; median of {args.rounds} rounds of {args.steps} steps")
    print(f"{'model':<12}{'images/s':>10}{'vs resnet18':>13}")
    for name, ips in speed.items():
        note = "   (timm resnet18 + cross-entropy, reference)" if name == "resnet18" else ""
        print(f"{name:<12}{ips:>10.1f}{ips / ref:>13.2f}{note}")


if __name__ == "__main__":
    main()
