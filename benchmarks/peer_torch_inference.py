"""The official side of ``bench_torch_inference.py``: MMPose 1.3.2's RTMPose, PyTorch eager, as a
timing server driven over stdin/stdout.

Run with the MMPose peer environment's python, never the project's (MMPose is not a dependency):
``bench_torch_inference.py --peer-python <peer python>`` starts it. It builds RTMPose-{t,s,m,l} from
the installed MMPose COCO 256x192 configs (backbone scope switched to ``mmpose``, whose CSPNeXt is
code-identical to MMDetection's and needs no compiled mmcv ops; SyncBN reverted to BatchNorm), loads
the weights the caller saved under the official key names (strict), and answers one JSON line per
request line:

    {"cmd": "load", "variant": "t", "weights": "w.pth"}                 -> {"ok": true, "torch": ...}
    {"cmd": "outputs", "variant": "t", "input": "x.npy", "out": "o.npz"} -> writes simcc_x, simcc_y
    {"cmd": "time", "variant": "t", "runs": 30, "warmup": 5}            -> {"times_ms": [...]}

Timing is MMPose's own tensor-mode forward (``model._forward``, the call ``inference_topdown`` makes
inside ``test_step`` minus pre/post-processing) on a (1, 3, 256, 192) input, batch 1, one thread,
``torch.inference_mode``, each call timed with ``perf_counter``.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import pathlib
import sys
import time
import warnings

CFG_REL = ".mim/configs/body_2d_keypoint/rtmpose/coco/rtmpose-{}_8xb256-420e_coco-256x192.py"


def build(variant: str, weights: str):
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    MMLogger.get_current_instance().setLevel(logging.ERROR)
    root = pathlib.Path(importlib.util.find_spec("mmpose").origin).parent
    cfg = Config.fromfile(str(root / CFG_REL.format(variant)))
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone._scope_ = "mmpose"
    init_default_scope("mmpose")
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


def main() -> int:
    import numpy as np
    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    models = {}
    x = torch.randn(1, 3, 256, 192, generator=torch.Generator().manual_seed(0))
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "load":
            models[req["variant"]] = build(req["variant"], req["weights"])
            reply = {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads()}
        elif cmd == "outputs":
            inp = torch.from_numpy(np.load(req["input"]))
            with torch.inference_mode():
                sx, sy = models[req["variant"]]._forward(inp)
            np.savez(req["out"], simcc_x=sx.numpy(), simcc_y=sy.numpy())
            reply = {"ok": True}
        elif cmd == "time":
            model = models[req["variant"]]
            times = []
            with torch.inference_mode():
                for _ in range(req["warmup"]):
                    model._forward(x)
                for _ in range(req["runs"]):
                    t = time.perf_counter()
                    model._forward(x)
                    times.append((time.perf_counter() - t) * 1e3)
            reply = {"times_ms": times}
        elif cmd == "quit":
            break
        else:
            reply = {"error": f"unknown command {cmd!r}"}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
