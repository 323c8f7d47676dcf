"""PyTorch inference against the official code: our inference model (conv+BN folded, channels_last,
convolutions prepacked for oneDNN with SiLU fused, ``torch.inference_mode``) against MMPose 1.3.2's
eager RTMPose, same weights, same input, one run.

Both sides run batch 1, one thread, a (1, 3, 256, 192) input. The official side is
``peer_torch_inference.py`` in the MMPose peer environment (``--peer-python``, or the environment
variable RTMPOSE_PEER_PYTHON), driven as a subprocess; the two sides alternate round by round, so
machine noise hits both alike. The weights are one random RTMPose per size (with random BatchNorm
statistics, so folding has something to fold) saved under the official key names and loaded by
MMPose with ``strict=True``; the outputs of the two sides are compared before timing.

Printed per size: median ms of ours (the default inference model), ours folded but not prepacked and
ours unfolded (our eager model: both for reference), MMPose eager, and MMPose / ours (> 1: ours is
faster); plus one ``RESULT {json}`` line each.

    python benchmarks/bench_torch_inference.py --peer-python <peer venv>/bin/python \
        [--variants t,s,m,l --rounds 5 --runs 20 --warmup 5] [--compile]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rtmposelib.config import preset
from rtmposelib.models.fuse import fuse_for_inference
from rtmposelib.models.mmpose_checkpoint import export_mmpose_state_dict
from rtmposelib.models.pose_model import build_model

PEER_SCRIPT = Path(__file__).with_name("peer_torch_inference.py")


class Peer:
    """The MMPose side as a subprocess answering one JSON line per request."""

    def __init__(self, python: str) -> None:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([python, str(PEER_SCRIPT)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{PEER_SCRIPT.name} exited (code {self.proc.poll()}); run it by hand "
                               f"with the peer python to see its error")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{PEER_SCRIPT.name}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)


def random_model(name: str, seed: int = 0) -> nn.Module:
    """A preset with random weights and random BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    model = build_model(preset(name).model).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model


def time_calls(fn, x, *, runs: int, warmup: int) -> list[float]:
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t) * 1e3)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", default=os.environ.get("RTMPOSE_PEER_PYTHON"),
                        help="python of the MMPose peer environment (default $RTMPOSE_PEER_PYTHON)")
    parser.add_argument("--variants", default="t,s,m,l")
    parser.add_argument("--rounds", type=int, default=5, help="alternations ours / MMPose per size")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per side per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls per side per round")
    parser.add_argument("--compile", action="store_true", help="also time ours under torch.compile (frozen weights)")
    args = parser.parse_args(argv)
    if not args.peer_python or not Path(args.peer_python).exists():
        print(f"skipped: the MMPose peer python {args.peer_python!r} does not exist; pass --peer-python "
              f"(make bench-peer does)")
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    torch.set_num_threads(1)
    x = torch.randn(1, 3, 256, 192, generator=torch.Generator().manual_seed(0))
    peer = Peer(args.peer_python)
    rows = []
    # one step per round (both sides), on stderr and only on a terminal: stdout stays as it is
    bar = tqdm(total=len(variants) * args.rounds, desc="rounds", file=sys.stderr, disable=None, leave=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for v in variants:
                bar.set_postfix_str(f"rtmpose-{v}")
                model = random_model(f"rtmpose-{v}")
                weights = Path(tmp) / f"{v}.pth"
                torch.save(export_mmpose_state_dict(model), weights)
                info = peer.ask(cmd="load", variant=v, weights=str(weights))
                np.save(Path(tmp) / "x.npy", x.numpy())
                peer.ask(cmd="outputs", variant=v, input=str(Path(tmp) / "x.npy"), out=str(Path(tmp) / "o.npz"))
                theirs = np.load(Path(tmp) / "o.npz")
                fused = fuse_for_inference(model)
                sides = {"ours": fused, "ours_folded": fuse_for_inference(model, prepack=False),
                         "ours_unfolded": model}
                if args.compile:
                    sides["ours_compiled"] = fuse_for_inference(model, compile=True)
                diffs = {}
                for name in (k for k in sides if k != "ours_unfolded"):
                    with torch.inference_mode():
                        out = sides[name](x)                           # compiles the compiled side
                    diffs[name] = max(float(np.abs(o.numpy() - theirs[k]).max())
                                      for o, k in zip(out, ("simcc_x", "simcc_y")))
                diff = diffs["ours"]
                times = {k: [] for k in (*sides, "mmpose")}
                for _ in range(args.rounds):
                    for k, fn in sides.items():
                        times[k] += time_calls(fn, x, runs=args.runs, warmup=args.warmup)
                    times["mmpose"] += peer.ask(cmd="time", variant=v, runs=args.runs,
                                                warmup=args.warmup)["times_ms"]
                    bar.update()
                med = {k: float(np.median(t)) for k, t in times.items()}
                row = {"variant": v, **{f"{k}_ms": m for k, m in med.items()},
                       "mmpose_over_ours": med["mmpose"] / med["ours"],
                       **({"mmpose_over_ours_compiled": med["mmpose"] / med["ours_compiled"],
                           "max_abs_logit_diff_compiled_vs_mmpose": diffs["ours_compiled"]} if args.compile else {}),
                       "max_abs_logit_diff_vs_mmpose": diff, "rounds": args.rounds, "runs": args.runs,
                       "torch_ours": torch.__version__, "torch_mmpose": info["torch"], "threads": 1}
                rows.append(row)
                with tqdm.external_write_mode(file=sys.stdout):
                    print("RESULT " + json.dumps(row), flush=True)
    finally:
        bar.close()
        peer.close()
    print(f"# PyTorch inference, batch 1, 1 thread, 1x3x256x192; {args.rounds} alternating rounds x "
          f"{args.runs} calls per side; median ms")
    compiled_head = f" {'compiled':>9} {'MMPose/compiled':>16}" if args.compile else ""
    print(f"# {'size':>4} {'ours':>8} {'folded':>8} {'unfolded':>9} {'MMPose':>8} {'MMPose/ours':>12} "
          f"{'max|dlogit|':>12}" + compiled_head)
    for r in rows:
        compiled = (f" {r['ours_compiled_ms']:9.2f} {r['mmpose_over_ours_compiled']:16.2f}" if args.compile else "")
        print(f"# {r['variant']:>4} {r['ours_ms']:8.2f} {r['ours_folded_ms']:8.2f} {r['ours_unfolded_ms']:9.2f} "
              f"{r['mmpose_ms']:8.2f} "
              f"{r['mmpose_over_ours']:12.2f} {r['max_abs_logit_diff_vs_mmpose']:12.2e}" + compiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
