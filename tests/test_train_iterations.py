"""Iterations per epoch as the official loader: the last partial batch is kept (a pure count, then fit)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rtmposelib.config import TrainConfig, preset, simcc_sigma
from rtmposelib.train import loop
from rtmposelib.train.distributed import iters_per_epoch


def test_coco_at_eight_by_256_gives_74_iterations_per_epoch():
    # 149,813 instances over 8 ranks -> 18,727 per rank (padded) -> 73 full batches of 256 + one of 39
    assert iters_per_epoch(149_813, 256, 8) == 74
    assert 420 * iters_per_epoch(149_813, 256, 8) == 31_080
    assert iters_per_epoch(149_813, 256, 8, drop_last=True) == 73          # the switch, not the default
    assert TrainConfig().drop_last is False


@pytest.mark.parametrize("n, batch, world, kept, dropped", [
    (128, 16, 1, 8, 8), (129, 16, 1, 9, 8), (15, 16, 1, 1, 0), (0, 16, 1, 0, 0), (9, 2, 2, 3, 2),
])
def test_partial_batches(n, batch, world, kept, dropped):
    assert iters_per_epoch(n, batch, world) == kept
    assert iters_per_epoch(n, batch, world, drop_last=True) == dropped


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        iters_per_epoch(10, 0)


@pytest.mark.slow
def test_fit_trains_the_last_partial_batch(tmp_path):
    """synth:smoke's training crops at batch 48: the partial last batch is one more iteration."""
    cfg = preset("rtmpose-t")
    size = (32, 32)
    cfg = replace(cfg, model=replace(cfg.model, input_size=size),
                  codec=replace(cfg.codec, input_size=size, sigma=simcc_sigma(size)),
                  data=replace(cfg.data, source="synth:smoke", num_workers=0),
                  train=replace(cfg.train, epochs=1, batch_size=48, warmup_iters=0, ema=False, stage2_epochs=0,
                                val_interval=100))
    result = loop.fit(cfg, out_dir=tmp_path, max_iters=3, progress=False)
    record = json.loads((tmp_path / "train_record.json").read_text())
    n = record["train_instances"]
    assert n % 48 != 0                                               # the last batch is partial
    assert record["iters_per_epoch"] == record["total_iters"] == -(-n // 48) == 3
    assert len(result.history) == 3
