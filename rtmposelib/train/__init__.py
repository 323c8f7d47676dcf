"""Training engine: optimiser, schedule, EMA, checkpoints, the loop, distributed training."""
