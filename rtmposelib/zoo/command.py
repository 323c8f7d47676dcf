"""``rtmpose zoo``: the released models by name.

    rtmpose zoo list                      # every entry with its input size, keypoints, data and published AP
    rtmpose zoo fetch rtmpose-m rtmdet-nano [--onnx]   # download into the cache; prints the paths
    rtmpose zoo path                      # the cache folder

Elsewhere, ``zoo:<name>`` stands for the released checkpoint and ``zoo:<name>.onnx`` for the ONNX file of
its SDK archive (``--pose``, ``--det``, ``--checkpoint``).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "fetch", "path"))
    parser.add_argument("names", nargs="*", help="model-zoo names (fetch)")
    parser.add_argument("--onnx", action="store_true", help="fetch the ONNX SDK archive instead of the .pth")


def format_registry() -> str:
    """The registry as a fixed-width table, one line per entry."""
    from rtmposelib.zoo.registry import ZOO

    header = f"{'name':<28} {'input':<7} {'keypoints':<15} {'published':<17} {'onnx':<4} training data"
    lines = [header, "-" * len(header)]
    for name, e in ZOO.items():
        w, h = e.input_size
        lines.append(f"{name:<28} {f'{h}x{w}':<7} {e.keypoints:<15} {e.metric + ' ' + format(e.published, '.1f'):<17} "
                     f"{'yes' if e.onnx_url else '-':<4} {e.training_data}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from rtmposelib.zoo.download import fetch_entry, zoo_dir
    from rtmposelib.zoo.registry import get_entry

    if args.action == "list":
        print(format_registry())
        print(f"\ncache: {zoo_dir()}  (use as zoo:<name> or zoo:<name>.onnx)")
        return 0
    if args.action == "path":
        print(zoo_dir())
        return 0
    if not args.names:
        raise ValueError("zoo fetch needs at least one model name (see `rtmpose zoo list`)")
    for name in args.names:
        print(fetch_entry(get_entry(name), onnx=args.onnx))
    return 0
