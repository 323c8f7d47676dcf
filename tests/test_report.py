"""The report page from a small results tree: figures embedded, tables beside the paper's, cache states, the
command's errors. (The whole smoke suite's report is checked in tests/test_notebooks.py.)"""
from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from rtmposelib.cli import main
from rtmposelib.suite import report, results
from rtmposelib.suite.plan import plan


def _tree(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    sweeps = results.write(tmp_path / "smoke" / "sweeps" / "summary", config={}, metrics={"best_kernel": 7},
                           tables={"table2_kernel": pd.DataFrame({"row": ["7x7"], "ap_mean": [1.5]})},
                           figures={"table2_kernel": fig})
    plt.close(fig)
    (sweeps / "suite.json").write_text(json.dumps({"hash": "0" * 16, "status": "ok", "seconds": 3.0}))
    run = results.write(tmp_path / "smoke" / "train_step" / "baseline-seed0", config={"model": {"widen_factor": 0.375}},
                        metrics={"AP": 12.5, "step": "baseline", "seed": 0})
    (run / "suite.json").write_text(json.dumps({"hash": "0" * 16, "status": "failed", "seconds": 1.0, "error": "x"}))
    return tmp_path


def test_report_embeds_figures_and_puts_the_paper_beside_ours(tmp_path):
    root = _tree(tmp_path)
    page = report.write_report(root, "smoke").read_text()
    assert 'id="figure-sweeps-summary-table2_kernel"' in page and page.count("data:image/png;base64,") == 1
    assert 'id="table-sweeps-summary-table2_kernel"' in page
    assert 'id="table-sweeps-summary-paper_table2"' in page and 'id="table-sweeps-summary-paper_table3"' in page
    states = report.entry_states(plan("smoke"), root / "smoke", report.Path(__file__).parents[1] / "notebooks")
    by = states.set_index("entry")
    assert by.loc["sweeps/summary", "cache"] == "stale" and by.loc["roadmap/summary", "cache"] == "missing"
    assert by.loc["train_step/baseline-seed0", "status"] == "failed"
    assert "12.5" in page and "logical cores" in page                           # training runs, machine


def test_report_command(tmp_path, capsys):
    root = _tree(tmp_path)
    assert main(["report", "--scale", "smoke", "--results", str(root)]) == 0
    assert (root / "smoke" / "report.html").is_file()
    assert main(["report", "--scale", "cpu", "--results", str(root)]) == 2
    assert "no results for scale 'cpu'" in capsys.readouterr().err


def test_screenshot_rejects_a_missing_page(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        report.screenshot(tmp_path / "absent.html", tmp_path / "x.png")
