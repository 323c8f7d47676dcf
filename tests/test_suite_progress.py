"""The suite's progress line and its Ctrl-C message."""
from __future__ import annotations

from rtmposelib.suite.runner import _interrupted_message, progress_line


def test_progress_line_counts_and_estimates():
    finished = {"a": {"status": "ok", "seconds": 60.0}, "b": {"status": "cached", "seconds": 0.0}}
    line = progress_line(finished, ["c"], 2, 90.0, jobs=1)
    assert line.startswith("done 2/5, running 1, left 2; elapsed 1m30s")
    assert "about 2m30s to go" in line                      # (2 left + half of 1 running) x 60 s
    assert "to go" not in progress_line({}, ["a"], 3, 5.0, jobs=2)


def test_interrupt_message_names_finished_and_stopped_entries():
    msg = _interrupted_message({"a": {"status": "ok"}, "b": {"status": "failed"}}, ["c", "d"])
    assert "1 entries finished (a)" in msg and "stopped: c, d" in msg and "Rerun" in msg and "\n" not in msg
