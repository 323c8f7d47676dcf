"""A parameterised notebook for the suite runner's tests: the parameters the runner injects (``out_dir``,
``scale``, ``results_root``) plus ``value`` and any extra lines, then one code cell."""
from __future__ import annotations

from pathlib import Path

import nbformat

PARAMETERS = 'out_dir = "."\nscale = "smoke"\nresults_root = "."\nvalue = 1.0'


def write_notebook(path: Path, body: str, *, extra_parameters: str = "") -> None:
    """Write a notebook at ``path`` whose tagged parameters cell is :data:`PARAMETERS` (+ extra lines) and
    whose second cell is ``body``, on the stock ``python3`` kernel."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMETERS + (f"\n{extra_parameters}" if extra_parameters else ""))
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def notebooks_dir(tmp_path: Path, monkeypatch, notebooks: dict[str, str], *, extra_parameters: str = "") -> Path:
    """``tmp_path / "notebooks"`` holding one tiny notebook per ``{name: body}``, with the runner's source
    digest fixed: it is part of the cache key, and other edits to the tree during a test must not turn
    the expected cache hits into reruns."""
    monkeypatch.setattr("rtmposelib.suite.runner.source_digest", lambda *_: "fixed-source")
    d = tmp_path / "notebooks"
    d.mkdir()
    for name, body in notebooks.items():
        write_notebook(d / f"{name}.ipynb", body, extra_parameters=extra_parameters)
    return d
