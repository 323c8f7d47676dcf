"""The rtmpose command: one sub-command per workflow, each defined beside the code it runs.

Every sub-command module exposes ``add_arguments(parser)`` and ``run(args) -> int``. A bad argument or
input file (``ValueError``, ``FileNotFoundError``) ends every command the same way: a one-line
``rtmpose <command>: error: ...`` on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# sub-command -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("rtmposelib.train.command", "train a pose model (one process, or under torchrun)"),
    "eval": ("rtmposelib.eval.command", "evaluate a checkpoint with COCO keypoint AP"),
    "export": ("rtmposelib.export.command", "export a model to ONNX"),
    "bench": ("rtmposelib.export.bench_command", "latency benchmark by the paper's protocol"),
    "demo": ("rtmposelib.infer.command", "pose estimation on an image, a folder or a video"),
    "synth": ("rtmposelib.data.command", "generate the SynthPose dataset"),
    "detector": ("rtmposelib.detect.command", "train / export the RTMDet-nano person detector"),
    "suite": ("rtmposelib.suite.runner", "run the notebook suite with papermill"),
    "report": ("rtmposelib.suite.report", "one self-contained HTML page of a scale's results"),
    "zoo": ("rtmposelib.zoo.command", "the released models by name: list, fetch"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rtmpose", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == wanted:
            importlib.import_module(module).add_arguments(p)
    args, rest = parser.parse_known_args(argv)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    command = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(command.run(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        name = " ".join(filter(None, (args.command, getattr(args, "action", None))))
        print(f"rtmpose {name}: error: {_last_line(err)}", file=sys.stderr)
        return 2


def _last_line(err: Exception) -> str:
    """The message of ``err``; for an error raised in a DataLoader worker, the worker's own last line."""
    message = str(err).strip()
    return message.splitlines()[-1] if "Original Traceback" in message else message


if __name__ == "__main__":
    raise SystemExit(main())
