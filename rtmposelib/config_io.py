"""RunConfig to and from JSON: the file a run is launched from (``rtmpose train --config run.json``).

The JSON is ``dataclasses.asdict(cfg)``: nested dicts, tuples as lists. :func:`config_from_dict` rebuilds
the frozen dataclasses of :mod:`rtmposelib.config` from it, turning lists back into tuples, so that
``config_from_dict(config_to_dict(cfg)) == cfg``. Keys that no field has are an error naming the key (a
typo in a hand-written file must not be silently ignored); missing keys take the dataclass defaults.
The suite uses this to hand a paper-scale run to ``torchrun`` (one process per GPU).
"""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

from rtmposelib.config import RunConfig


def config_to_dict(cfg: RunConfig) -> dict:
    """``dataclasses.asdict(cfg)`` (JSON-ready: tuples become lists when dumped)."""
    return dataclasses.asdict(cfg)


def config_from_dict(values: dict, cls=RunConfig, *, where: str = "config"):
    """The dataclass ``cls`` (default RunConfig) built from ``values``, nested dataclasses included.

    where: the key path used in error messages (e.g. "run.json: train").
    """
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a JSON object for {cls.__name__}, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} for {cls.__name__}; known: {sorted(names)}")
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = config_from_dict(value, hint, where=f"{where}.{name}")
        else:
            kwargs[name] = _tuples(value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: invalid {cls.__name__}: {exc}") from None


def _tuples(value):
    """JSON lists back to the tuples the frozen configs use (nested lists too)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def save_config(cfg: RunConfig, path: str | Path) -> Path:
    """Write ``cfg`` as indented JSON to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config_to_dict(cfg), indent=2) + "\n")
    return path


def load_config(path: str | Path) -> RunConfig:
    """The RunConfig in a JSON file written by :func:`save_config` (or by hand)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"run config {path} does not exist")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"run config {path} is not valid JSON: {exc}") from None
    return config_from_dict(values, where=str(path))
