"""OpenMP wait policy: training steps with idle OpenMP threads spinning (libgomp's default) against
sleeping (``OMP_WAIT_POLICY=PASSIVE``), on an idle machine and beside one busy process.

torch's CPU kernels run in an OpenMP thread pool. Between parallel regions libgomp's idle threads spin
by default, which costs nothing when every thread has a core of its own; when another process wants
one of those cores, a spinning thread keeps it from the thread that the others wait for. The policy is
read when torch loads OpenMP, so each measurement is a fresh child process with the variable set
before ``import torch``.

One step: RTMPose-t forward + KL loss + backward + AdamW on a random batch (``--batch`` crops at
256x192) with ``--threads`` torch threads, warm-up 2 steps, median of ``--steps``. Settings alternate
round by round. ``--busy`` starts one pure-Python busy loop (one core's worth of other work) for the
second half of the table.

    python benchmarks/bench_omp_wait.py [--threads 2 --batch 16 --steps 6 --rounds 3]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys

from tqdm import tqdm

CHILD = r"""
import json, statistics, sys, time
import torch
from rtmposelib.config import preset
from rtmposelib.losses import build_loss
from rtmposelib.models.pose_model import build_model
threads, batch, steps = (int(a) for a in sys.argv[1:4])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = preset("rtmpose-t")
model = build_model(cfg.model).train()
loss_fn = build_loss(cfg.loss)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
w, h = cfg.codec.input_size
images = torch.randn(batch, 3, h, w)
k = cfg.model.num_keypoints
targets = {"target_x": torch.rand(batch, k, int(w * cfg.codec.split_ratio)),
           "target_y": torch.rand(batch, k, int(h * cfg.codec.split_ratio)), "weights": torch.ones(batch, k)}
times = []
for i in range(steps + 2):
    t0 = time.perf_counter()
    loss = loss_fn(model(images), targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if i >= 2:
        times.append(time.perf_counter() - t0)
print("RESULT " + json.dumps({"ms": 1e3 * statistics.median(times)}))
"""


def busy_loop() -> None:
    while True:
        pass


def step_ms(policy: str | None, threads: int, batch: int, steps: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(batch), str(steps)], env=env,
                         capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"child failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()[-400:]}")
    return float(json.loads(lines[-1][len("RESULT "):])["ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true", help="skip the measurement beside a busy process")
    args = parser.parse_args()
    print(f"RTMPose-t training step, batch {args.batch}, 256x192, {args.threads} torch threads, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    conditions = ["idle"] + ([] if args.no_busy else ["one busy process"])
    for condition in conditions:
        busy = None
        if condition != "idle":
            busy = mp.Process(target=busy_loop, daemon=True)
            busy.start()
        try:
            spin, sleep = [], []
            for r in tqdm(range(args.rounds), desc=condition, unit="round", disable=None, leave=False):
                order = [("spin", None), ("sleep", "PASSIVE")]
                for name, policy in (order if r % 2 == 0 else order[::-1]):
                    (spin if name == "spin" else sleep).append(step_ms(policy, args.threads, args.batch,
                                                                       args.steps))
        finally:
            if busy is not None:
                busy.terminate()
                busy.join()
        s, p = statistics.median(spin), statistics.median(sleep)
        print(f"  {condition:18s} spinning (default) {s:8.1f} ms   sleeping (PASSIVE) {p:8.1f} ms   "
              f"default / PASSIVE {s / p:5.2f}   rounds: " + " ".join(f"{a:.0f}/{b:.0f}" for a, b in zip(spin, sleep)))
        print("RESULT " + json.dumps({"condition": condition, "spin_ms": s, "passive_ms": p, "ratio": s / p}),
              flush=True)


if __name__ == "__main__":
    main()
