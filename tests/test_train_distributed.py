"""torchrun --nproc_per_node=2 on CPU (gloo): a few DDP iterations leave both ranks with identical weights,
only rank 0 writes the run, and train_record.json records the effective batch."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from rtmposelib.train.distributed import DistInfo, ResumableSampler

SCRIPT = textwrap.dedent("""
    import os, sys
    from dataclasses import replace
    import torch
    from rtmposelib.config import preset, simcc_sigma
    from rtmposelib.train.loop import fit
    torch.set_num_threads(1)
    out = sys.argv[1]
    cfg = preset("rtmpose-t")
    size = (32, 32)
    cfg = replace(cfg, model=replace(cfg.model, input_size=size),
                  codec=replace(cfg.codec, input_size=size, sigma=simcc_sigma(size)),
                  data=replace(cfg.data, source="synth:smoke", num_workers=0),
                  train=replace(cfg.train, epochs=1, batch_size=4, warmup_iters=1, ema=True, stage2_epochs=0))
    result = fit(cfg, out_dir=os.path.join(out, "run"), max_iters=3, device="cpu", progress=False)
    state = {"model": result.model.state_dict(), "ema": result.ema_model.state_dict()}
    torch.save(state, os.path.join(out, f"rank{os.environ['RANK']}.pt"))
""")


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_end_identical(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             str(script), str(tmp_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)                    # torchrun and both ranks
        raise
    assert proc.returncode == 0, stderr[-3000:]
    a, b = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for part in ("model", "ema"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), f"{part}.{key} differs between ranks"
    record = json.loads((tmp_path / "run" / "train_record.json").read_text())
    assert record["world_size"] == 2 and record["effective_batch"] == 8
    assert "lr_scaling" in record
    ckpt = torch.load(tmp_path / "run" / "last.pth", weights_only=True)
    assert ckpt["position"]["iteration"] == 3
    assert torch.equal(ckpt["model"]["head.cls_x.weight"], a["model"]["head.cls_x.weight"])
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["history.csv", "last.pth", "train_record.json"]


def test_sampler_shards_like_distributed_sampler_and_resumes_mid_epoch():
    data = list(range(10))
    ranks = [ResumableSampler(data, epoch=3, seed=7, info=DistInfo(r, 2, r, torch.device("cpu"))) for r in (0, 1)]
    full = ranks[0].indices + ranks[1].indices
    assert len(ranks[0]) == len(ranks[1]) == 5 and sorted(full) == data            # a partition
    again = ResumableSampler(data, epoch=3, seed=7, info=DistInfo(0, 2, 0, torch.device("cpu")), start=2)
    assert again.indices == ranks[0].indices[2:]
    other_epoch = ResumableSampler(data, epoch=4, seed=7, info=DistInfo(0, 2, 0, torch.device("cpu")))
    assert other_epoch.indices != ranks[0].indices
