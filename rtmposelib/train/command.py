"""``rtmpose train``: train a preset on SynthPose or a COCO-format root, in one process or under torchrun.

    rtmpose train --preset rtmpose-t --data synth:smoke --epochs 3 --batch-size 16 --out runs/t
    torchrun --nproc_per_node=2 -m rtmposelib.cli train --preset rtmpose-t ... (effective batch = 2 x B)

``--pretrain-heatmap`` runs the UDP heatmap pre-training of the preset's backbone instead
(:mod:`rtmposelib.train.pretrain`); ``--init-backbone RUN_DIR_OR_CKPT`` starts from such a run.
Ctrl-C (SIGINT) or SIGTERM finishes the current step, saves ``last.pth`` and exits with code 130;
``--resume`` continues exactly. ``--config run.json`` trains a RunConfig saved by
:func:`rtmposelib.config_io.save_config` (how the notebook suite hands a paper-scale run to torchrun);
it cannot be combined with the options that change the config.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace

from rtmposelib.config import PRESETS, preset, simcc_sigma

# options that change the RunConfig (not allowed beside --config); --preset has a default, so it is not here
CONFIG_OPTIONS = ("epochs", "batch_size", "lr", "warmup_iters", "stage2_epochs", "val_interval", "input_size",
                  "workers", "seed", "pretrain_heatmap", "init_backbone")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="a RunConfig JSON (rtmposelib.config_io) instead of --preset and its options")
    parser.add_argument("--preset", default="rtmpose-t", choices=sorted(PRESETS), help="model-zoo preset")
    parser.add_argument("--data", default="synth:smoke", help="synth:smoke | synth:cpu | synth:<n> | COCO root")
    parser.add_argument("--out", required=True, help="run folder (checkpoints, history.csv, metrics.json)")
    parser.add_argument("--epochs", type=int, help="run length (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="per process (default: the preset's)")
    parser.add_argument("--lr", type=float, help="base learning rate (default: the preset's)")
    parser.add_argument("--warmup-iters", type=int, help="linear warm-up iterations (default 1000)")
    parser.add_argument("--stage2-epochs", type=int, help="last epochs with the weak pipeline")
    parser.add_argument("--val-interval", type=int, help="epochs between validations")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("W", "H"), help="crop size, multiples of 32")
    parser.add_argument("--workers", type=int, help="DataLoader workers per process")
    parser.add_argument("--seed", type=int, help="run seed (default: the preset's, 21)")
    parser.add_argument("--device", help="cpu | cuda | cuda:N (default: cuda when available)")
    parser.add_argument("--max-iters", type=int, help="pause after this many iterations (resumable)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pth")
    parser.add_argument("--pretrain-heatmap", action="store_true", help="UDP heatmap pre-training run")
    parser.add_argument("--init-backbone", help="checkpoint or run folder whose backbone initialises ours")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace):
    """The RunConfig that the command line describes."""
    from rtmposelib.train.pretrain import finetune_config, heatmap_pretrain_config

    if getattr(args, "config", None):
        clashing = [f"--{k.replace('_', '-')}" for k in CONFIG_OPTIONS if getattr(args, k, None) not in (None, False)]
        if clashing:
            raise ValueError(f"--config {args.config} is a complete run config; drop {', '.join(clashing)}")
        from rtmposelib.config_io import load_config
        return load_config(args.config)
    cfg = preset(args.preset)
    t = cfg.train
    changes = {"epochs": args.epochs, "batch_size": args.batch_size, "base_lr": args.lr,
               "warmup_iters": args.warmup_iters, "val_interval": args.val_interval, "seed": args.seed}
    t = replace(t, **{k: v for k, v in changes.items() if v is not None})
    if args.epochs is not None and args.stage2_epochs is None:       # keep the weak stage's share
        t = replace(t, stage2_epochs=0 if args.epochs == 1 else
                    max(1, min(args.epochs - 1, round(args.epochs * cfg.train.stage2_epochs / cfg.train.epochs))))
    if args.stage2_epochs is not None:
        t = replace(t, stage2_epochs=args.stage2_epochs)
    t = replace(t, val_interval=min(t.val_interval, t.epochs))
    data = replace(cfg.data, source=args.data, **({"num_workers": args.workers} if args.workers is not None else {}))
    cfg = replace(cfg, train=t, data=data)
    if args.input_size:
        size = tuple(args.input_size)
        cfg = replace(cfg, model=replace(cfg.model, input_size=size),
                      codec=replace(cfg.codec, input_size=size, sigma=simcc_sigma(size, cfg.codec.split_ratio),
                                    heatmap_size=(size[0] // 4, size[1] // 4)))
    if args.pretrain_heatmap:
        cfg = heatmap_pretrain_config(cfg, epochs=args.epochs)
    if args.init_backbone:
        cfg = finetune_config(cfg, args.init_backbone)
    return cfg


def run(args: argparse.Namespace) -> int:
    from rtmposelib.train.interrupt import TrainingInterrupted
    from rtmposelib.train.loop import fit

    cfg = config_from_args(args)
    has_run = os.path.isfile(os.path.join(args.out, "last.pth"))
    if args.resume and not has_run:
        print(f"note: --resume, but {args.out} holds no last.pth: starting a new run", file=sys.stderr)
    elif has_run and not args.resume:
        print(f"note: {args.out} holds a run; starting over and replacing its files (--resume continues it)",
              file=sys.stderr)
    try:
        result = fit(cfg, out_dir=args.out, resume=args.resume, device=args.device, max_iters=args.max_iters,
                     progress=not args.no_progress)
    except TrainingInterrupted as stop:
        print(f"interrupted: {stop} (rtmpose train ... --resume)", file=sys.stderr)
        return 130
    except FloatingPointError as err:                      # NaN / Inf loss: a clear stop, not a traceback
        print(f"rtmpose train: error: {err}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:              # under torchrun, rank 0 reports
        return 0
    m = result.metrics
    ap = m.get("val", {}).get("AP")
    done = m["iterations"] == m["total_iters"]
    print(f"{cfg.name}: {m['iterations']}/{m['total_iters']} iterations, final loss {m['final_loss']:.4g}, "
          f"val AP {ap if ap is not None else '-'}, run in {result.out_dir}"
          + ("" if done else " (paused: continue with --resume)"))
    from rtmposelib.train.loop import TRAIN_RECORD

    record = result.out_dir / TRAIN_RECORD
    if record.is_file():                                   # nothing is lost silently: report the skips
        saved = json.loads(record.read_text())
        for split in ("train", "val"):
            if saved.get(f"{split}_skipped"):
                print(f"skipped {split} instances (reason: count): {saved[f'{split}_skipped']}")
    return 0
