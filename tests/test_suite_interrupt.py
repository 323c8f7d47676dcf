"""Ctrl-C of the real ``rtmpose suite`` process: it stops the running notebook, exits with a message (no
traceback) that names the finished and the stopped entries, and a rerun reuses what had finished."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tiny_notebook import write_notebook

ROOT = Path(__file__).resolve().parents[1]

# the rtmpose command's main() with a two-entry plan of the test's notebook in place of the paper's, and a
# fixed source digest (other edits to the library during the test must not turn cache hits into reruns);
# SIGINT as in a terminal, whatever disposition the test runner's own parent gave it
CLI = """import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import rtmposelib.suite.runner as runner
from rtmposelib.cli import main
from rtmposelib.suite.plan import Entry
runner.plan = lambda scale, **_: [Entry("work", "a", {"value": 1.0}, key_metric="value"),
                                  Entry("work", "b", {"value": 2.0}, key_metric="value")]
runner.source_digest = lambda *_: "fixed-source"
raise SystemExit(main(sys.argv[1:]))
"""

# entry b holds while the file "hold" exists next to the results (and says so with "started")
BODY = """import json, pathlib, time
if value == 2.0 and pathlib.Path(results_root, "hold").exists():
    pathlib.Path(out_dir, "started").write_text("")
    time.sleep(120)
pathlib.Path(out_dir, "metrics.json").write_text(json.dumps({"value": value, "stamp": time.time()}))"""


def _notebook(path: Path) -> None:
    write_notebook(path, BODY)


def _suite(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, "suite", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def test_ctrl_c_stops_the_suite_and_a_rerun_continues(tmp_path):
    notebooks, results = tmp_path / "notebooks", tmp_path / "results"
    notebooks.mkdir()
    _notebook(notebooks / "work.ipynb")
    (results / "smoke").mkdir(parents=True)
    (results / "smoke" / "hold").write_text("")
    args = ["--scale", "smoke", "--notebooks", str(notebooks), "--results", str(results), "--jobs", "1"]
    run_b = results / "smoke" / "work" / "b"

    proc = _suite(args)
    try:
        deadline = time.monotonic() + 60
        while not (run_b / "started").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "entry work/b never started"
            time.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    stopped_in = time.monotonic() - t0

    assert proc.returncode not in (0, None), (out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert stopped_in < 15                                  # not after the notebook's two minutes
    assert "1 entries finished (work/a)" in out and "stopped: work/b" in out and "Rerun" in out, out
    assert "without encryption" not in err + out           # the kernels' chatter went to the run logs
    assert not (run_b / "suite.json").exists() and not (run_b / "metrics.json").exists()
    stamp_a = json.loads((results / "smoke" / "work" / "a" / "metrics.json").read_text())["stamp"]

    (results / "smoke" / "hold").unlink()
    rerun = _suite(args)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, (out, err)
    assert "cached  work/a" in out and "ok  work/b" in out and "2/2 entries succeeded" in out, out
    assert json.loads((results / "smoke" / "work" / "a" / "metrics.json").read_text())["stamp"] == stamp_a


def test_a_kernel_that_ignores_ctrl_c_is_killed_after_the_grace_period(tmp_path):
    """SIGINT first; a process group still running after ``grace`` seconds gets SIGKILL."""
    from concurrent.futures import ThreadPoolExecutor

    from rtmposelib.suite import runner

    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                                 "signal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ready', flush=True)\n"
                                 "time.sleep(60)"],
                                start_new_session=True, stdout=subprocess.PIPE, text=True)  # as a kernel
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    run_dir = tmp_path / "work" / "x"
    runner._KERNELS[str(run_dir)] = stubborn.pid
    try:
        with ThreadPoolExecutor(1) as pool:
            fut = pool.submit(stubborn.wait)
            t0 = time.monotonic()
            runner._stop_kernels({fut: run_dir}, grace=1.0)
            assert fut.done() and fut.result() == -signal.SIGKILL
            assert 1.0 <= time.monotonic() - t0 < 10
    finally:
        runner._KERNELS.pop(str(run_dir), None)
        stubborn.kill()
        stubborn.communicate()
