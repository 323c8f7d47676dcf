"""Training engine: the paper's recipe (Sec. 3.2, Table 7) end to end, one concept per module.

- :mod:`~rtmposelib.train.loop` -- ``fit(cfg, *, out_dir, resume, device, max_iters, progress) -> TrainResult``
- :mod:`~rtmposelib.train.schedule` -- warm-up -> flat -> cosine (or plain cosine), ``lr_at``
- :mod:`~rtmposelib.train.optim` -- AdamW with the official no-decay groups, ``build_optimizer``
- :mod:`~rtmposelib.train.ema` -- ``ExpMomentumEMA`` (MMDetection's)
- :mod:`~rtmposelib.train.checkpoint` -- atomic files, stop signals, ``save_backbone`` / ``load_backbone_into``,
  ``checkpoint_run_config`` / ``load_pose_weights`` (what eval, export and demo load)
- :mod:`~rtmposelib.train.state` -- what a checkpoint holds for exact resume
- :mod:`~rtmposelib.train.distributed` -- torchrun + DDP, resumable sharded sampling
- :mod:`~rtmposelib.train.pretrain` -- heatmap (UDP) pre-training and fine-tune configs
- :mod:`~rtmposelib.train.command` -- ``rtmpose train``
"""
