"""Each suite entry's run.log: the kernel's output and the notebook machinery's log records, kept out of the
terminal and apart between entries that run side by side."""
from __future__ import annotations

import logging

import pytest
from tiny_notebook import notebooks_dir

from rtmposelib.suite.plan import Entry
from rtmposelib.suite.runner import RUN_LOG, run_suite

# a line on the kernel process's own stderr (file descriptor 2, where a library's C code or the kernel
# itself writes), and papermill's warning for a parameter the notebook lacks
KERNEL_LINE = "kernel process stderr of run"
PAPERMILL_LINE = "papermill: Passed unknown parameter: undeclared"

BODY = """import json, os, pathlib, sys
print("to the notebook's own stderr", file=sys.stderr)
os.write(2, f"kernel process stderr of run {value}\\n".encode())
pathlib.Path(out_dir, "metrics.json").write_text(json.dumps({"value": value}))"""


@pytest.fixture
def nbdir(tmp_path, monkeypatch):
    return notebooks_dir(tmp_path, monkeypatch, {"work": BODY})


def test_kernel_and_papermill_lines_go_to_the_runs_own_log(tmp_path, nbdir, capfd):
    # two entries at once; only "a" passes a parameter the notebook does not declare
    entries = [Entry("work", "a", {"value": 1.0, "undeclared": 1}), Entry("work", "b", {"value": 2.0})]
    lines: list[str] = []
    summary = run_suite(entries, scale="smoke", results_root=tmp_path / "results", notebooks_dir=nbdir,
                        jobs=2, log=lines.append)
    assert list(summary["status"]) == ["ok", "ok"]
    logs = {r: (tmp_path / "results" / "smoke" / "work" / r / RUN_LOG).read_text() for r in ("a", "b")}
    assert f"{KERNEL_LINE} 1.0" in logs["a"] and f"{KERNEL_LINE} 2.0" in logs["b"]
    assert PAPERMILL_LINE in logs["a"] and "undeclared" not in logs["b"]          # not mixed between runs
    assert str(tmp_path) not in logs["a"] + logs["b"]                               # scrubbed like the rest
    assert "notebook's own stderr" not in logs["a"]                   # cell output stays in the notebook
    out, err = capfd.readouterr()
    for text in (KERNEL_LINE, "Passed unknown parameter", "IPKernelApp"):
        assert text not in out and text not in err
    assert all(line.startswith("[suite] ") for line in lines)
    # the handlers are gone with the run: a later papermill record does not reach the run's file
    logging.getLogger("papermill").warning("after the suite")
    assert "after the suite" not in (tmp_path / "results" / "smoke" / "work" / "a" / RUN_LOG).read_text()
