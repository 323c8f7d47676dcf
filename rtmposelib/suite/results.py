"""The on-disk record of every notebook run: ``results/<scale>/<notebook>/<run>/``.

Each run directory holds ``config.json`` (the run's full config, dataclasses as nested dicts),
``metrics.json`` (flat name -> number or string), ``<table>.csv`` and ``<figure>.png`` files, and, when
run by the suite, the executed notebook. Results live in files, never only in a notebook's metadata
(the recommenders convention); :func:`load_all` reads the whole tree back into one DataFrame.
"""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


def run_dir(root: str | Path, scale: str, notebook: str, run: str) -> Path:
    """``<root>/<scale>/<notebook>/<run>``; names must be single path components."""
    for what, part in (("scale", scale), ("notebook", notebook), ("run", run)):
        if not part or "/" in part or part in (".", ".."):
            raise ValueError(f"{what} must be a plain name, got {part!r}")
    return Path(root) / scale / notebook / run


def _jsonable(obj: Any) -> Any:
    """Dataclasses, numpy scalars/arrays, paths and tuples as JSON values; NaN/inf become None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, Path):
        return obj.as_posix()
    if callable(obj):
        return getattr(obj, "__name__", repr(obj))
    raise TypeError(f"cannot write {type(obj).__name__} to JSON: {obj!r}")


def write(run_dir: str | Path, *, config: Any, metrics: Mapping[str, Any],
          tables: Mapping[str, pd.DataFrame] | None = None, figures: Mapping[str, Any] | None = None) -> Path:
    """Write one run's record into ``run_dir`` (created) and return it.

    config: a RunConfig (or any dataclass / dict). metrics: name -> scalar; non-finite numbers are
    written as null. tables: name -> DataFrame, written as ``<name>.csv`` without the index (reset it
    first if it carries data). figures: name -> matplotlib Figure (saved as ``<name>.png``, 120 dpi) or
    the path of an existing PNG (copied).
    """
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, value in metrics.items():
        if isinstance(value, (Mapping, list, tuple, np.ndarray)):
            raise ValueError(f"metric {name!r} must be a scalar, got {type(value).__name__}; "
                             "put arrays and per-row values in a table")
    (out / CONFIG_FILE).write_text(json.dumps(_jsonable(config), indent=2, sort_keys=True) + "\n")
    (out / METRICS_FILE).write_text(json.dumps(_jsonable(dict(metrics)), indent=2, sort_keys=True) + "\n")
    for name, df in (tables or {}).items():
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"table {name!r} must be a pandas DataFrame, got {type(df).__name__}")
        df.to_csv(out / f"{name}.csv", index=False)
    for name, fig in (figures or {}).items():
        target = out / f"{name}.png"
        if isinstance(fig, (str, Path)):
            if not Path(fig).is_file():
                raise FileNotFoundError(f"figure {name!r}: no file at {fig}")
            if Path(fig).resolve() != target.resolve():
                shutil.copyfile(fig, target)
        else:
            fig.savefig(target, dpi=120, bbox_inches="tight")
    return out


def read(run_dir: str | Path) -> dict[str, Any]:
    """One run's ``config``, ``metrics`` and the names of its tables and figures."""
    path = Path(run_dir)
    for name in (CONFIG_FILE, METRICS_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path} is not a run directory: {name} is missing")
    return {"config": json.loads((path / CONFIG_FILE).read_text()),
            "metrics": json.loads((path / METRICS_FILE).read_text()),
            "tables": sorted(p.stem for p in path.glob("*.csv")),
            "figures": sorted(p.stem for p in path.glob("*.png"))}


def _flatten(d: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = tuple(v) if isinstance(v, list) else v
    return flat


def load_all(root: str | Path = "results") -> pd.DataFrame:
    """Every run under ``root`` as one row: scale, notebook, run, path, the metrics as columns and the
    config flattened as ``config.<part>.<field>`` columns. Unreadable runs raise with their path."""
    rows = []
    for metrics_file in sorted(Path(root).glob(f"*/*/*/{METRICS_FILE}")):
        path = metrics_file.parent
        try:
            record = read(path)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: malformed JSON ({exc})") from None
        scale, notebook, run = path.relative_to(root).parts
        rows.append({"scale": scale, "notebook": notebook, "run": run, "path": path.as_posix(),
                     **record["metrics"], **_flatten(record["config"], "config.")})
    fixed = ["scale", "notebook", "run", "path"]
    return pd.DataFrame(rows, columns=None if rows else fixed)


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """``<run_dir>/<name>.csv`` as a DataFrame."""
    path = Path(run_dir) / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"table {name!r} not found: {path}")
    return pd.read_csv(path)
