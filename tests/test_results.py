"""Run records: write -> read -> load_all round trip, non-finite numbers, bad input."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from rtmposelib.config import PRESETS
from rtmposelib.suite import results


def test_write_and_load_all_round_trip(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    for seed in (0, 1):
        d = results.run_dir(tmp_path, "smoke", "train_step", f"baseline-seed{seed}")
        results.write(d, config=PRESETS["rtmpose-t"], metrics={"AP": 0.5 + seed, "seconds": 3, "bad": float("nan")},
                      tables={"history": pd.DataFrame({"epoch": [1, 2], "loss": [2.0, 1.0]})}, figures={"curve": fig})
    plt.close(fig)
    d = tmp_path / "smoke" / "train_step" / "baseline-seed1"
    rec = results.read(d)
    assert rec["metrics"] == {"AP": 1.5, "seconds": 3, "bad": None}
    assert rec["config"]["model"]["input_size"] == [192, 256]
    assert rec["tables"] == ["history"] and rec["figures"] == ["curve"]
    assert (d / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    df = results.load_all(tmp_path)
    assert list(df["run"]) == ["baseline-seed0", "baseline-seed1"]
    assert list(df["AP"]) == [0.5, 1.5]
    assert (df["config.model.widen_factor"] == 0.375).all()
    assert results.read_table(d, "history")["loss"].tolist() == [2.0, 1.0]


def test_load_all_on_empty_tree_and_malformed_json(tmp_path):
    assert list(results.load_all(tmp_path).columns) == ["scale", "notebook", "run", "path"]
    d = results.write(results.run_dir(tmp_path, "cpu", "nb", "r"), config={}, metrics={"x": 1})
    (d / "metrics.json").write_text("{oops")
    with pytest.raises(ValueError, match="malformed JSON"):
        results.load_all(tmp_path)


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="metric 'per_kpt' must be a scalar"):
        results.write(tmp_path, config={}, metrics={"per_kpt": [1, 2]})
    with pytest.raises(ValueError, match="run must be a plain name"):
        results.run_dir(tmp_path, "cpu", "nb", "a/b")
    with pytest.raises(FileNotFoundError, match="figure 'f'"):
        results.write(tmp_path, config={}, metrics={}, figures={"f": tmp_path / "none.png"})
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        results.read(tmp_path / "nowhere")
