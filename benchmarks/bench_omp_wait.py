"""OpenMP wait policy: the training step with idle OpenMP threads spinning (libgomp's default) against
sleeping (``OMP_WAIT_POLICY=PASSIVE``), on an idle machine and beside one busy process.

torch's CPU kernels run in an OpenMP thread pool. Between parallel regions libgomp's idle threads spin
by default, which costs nothing when every thread has a core of its own; when another process wants
one of those cores, a spinning thread keeps it from the thread that the others wait for. The policy is
read when torch loads OpenMP, so each measurement is a fresh process with the variable set before
``import torch``: our side of ``bench_peer_train_step.py`` (the project's training step with its
defaults, RTMPose-t, batch 32, 2 threads, 256x192, median of its timed steps). The two policies
alternate round by round. Without ``--no-busy`` the table's second row runs beside one pure-Python
busy loop (one core's worth of other work).

    python benchmarks/bench_omp_wait.py [--rounds 3] [--no-busy]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

STEP = Path(__file__).with_name("bench_peer_train_step.py")


def busy_loop() -> None:
    while True:
        pass


def step_ms(policy: str | None) -> float:
    """Median training-step time of a fresh process with ``OMP_WAIT_POLICY`` = policy (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    cmd = [sys.executable, str(STEP), "--side", "ours", "--models", "t", "--variants", "default"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{STEP.name} failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()[-400:]}")
    return float(json.loads(lines[-1][len("RESULT "):])["step_ms_median"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true", help="skip the measurement beside a busy process")
    args = parser.parse_args()
    print(f"RTMPose-t training step ({STEP.name} --side ours), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    for condition in ["idle"] + ([] if args.no_busy else ["one busy process"]):
        busy = None
        if condition != "idle":
            busy = mp.Process(target=busy_loop, daemon=True)
            busy.start()
        try:
            spin, sleep = [], []
            for r in tqdm(range(args.rounds), desc=condition, unit="round", disable=None, leave=False):
                order = [(spin, None), (sleep, "PASSIVE")]
                for times, policy in (order if r % 2 == 0 else order[::-1]):
                    times.append(step_ms(policy))
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
