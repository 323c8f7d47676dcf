"""Suite behaviour with tiny dummy notebooks: runs, cache hits, failures, dependencies, parallel jobs."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from tiny_notebook import notebooks_dir, write_notebook

from rtmposelib.suite.plan import Entry
from rtmposelib.suite.runner import run_suite, scrub_paths, select

FAIL_PARAMETER = "fail = False"


def _notebook(path, body: str) -> None:
    write_notebook(path, body, extra_parameters=FAIL_PARAMETER)


# kept import-light (json only) so that each execution costs little more than a kernel start
WRITE = """import json, pathlib, time
assert not fail, "deliberate failure"
pathlib.Path(out_dir, "metrics.json").write_text(json.dumps({"value": value * 2, "stamp": time.time()}))"""

SUM = """import json, pathlib
vals = [json.loads(p.read_text())["value"] for p in pathlib.Path(results_root, "work").glob("*/metrics.json")]
pathlib.Path(out_dir, "metrics.json").write_text(json.dumps({"total": sum(vals), "n": len(vals)}))"""


@pytest.fixture
def nbdir(tmp_path, monkeypatch):
    return notebooks_dir(tmp_path, monkeypatch, {"work": WRITE, "total": SUM}, extra_parameters=FAIL_PARAMETER)


def _entries(fail_b: bool = False):
    work = [Entry("work", "a", {"value": 1.0}, key_metric="value"),
            Entry("work", "b", {"value": 2.0, "fail": fail_b}, key_metric="value"),
            Entry("work", "c", {"value": 3.0}, key_metric="value")]
    return work + [Entry("total", "all", {}, after=tuple(e.name for e in work), key_metric="total")]


def _stamp(root, run):
    return json.loads((root / "smoke" / "work" / run / "metrics.json").read_text())["stamp"]


def test_failure_caching_and_rerun_of_only_the_failed_entry(tmp_path, nbdir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path("results")               # relative, as on the command line: must survive papermill's chdir
    logs: list[str] = []
    s1 = run_suite(_entries(fail_b=True), scale="smoke", results_root=root, notebooks_dir=nbdir, jobs=2,
                   log=logs.append).set_index("entry")
    assert s1.loc["work/a", "status"] == "ok" and s1.loc["work/c", "status"] == "ok"
    assert s1.loc["work/b", "status"] == "failed" and "deliberate failure" in s1.loc["work/b", "error"]
    assert s1.loc["total/all", "status"] == "blocked"
    assert s1.loc["work/a", "metric"] == 2.0
    # the failed run keeps its executed notebook for inspection, scrubbed of the machine's paths
    executed = (root / "smoke" / "work" / "b" / "work.ipynb").read_text()
    assert "deliberate failure" in executed and str(root.resolve()) not in executed and "<results>" in executed
    assert (root / "smoke" / "work" / "b" / "suite.json").is_file()
    stamps = {r: _stamp(root, r) for r in ("a", "c")}

    s2 = run_suite(_entries(fail_b=False), scale="smoke", results_root=root, notebooks_dir=nbdir,
                   log=logs.append).set_index("entry")
    assert list(s2["status"]) == ["cached", "ok", "cached", "ok"]
    assert {r: _stamp(root, r) for r in ("a", "c")} == stamps          # not re-executed
    assert s2.loc["total/all", "metric"] == 12.0

    s3 = run_suite(_entries(), scale="smoke", results_root=root, notebooks_dir=nbdir, log=logs.append)
    assert (s3["status"] == "cached").all()
    # --force with --only reruns just the selection; dependants see a new hash only if inputs changed
    s4 = run_suite(_entries(), scale="smoke", results_root=root, notebooks_dir=nbdir, force=True,
                   only=["work/a"], log=logs.append).set_index("entry")
    assert list(s4.index) == ["work/a"] and s4.loc["work/a", "status"] == "ok"
    assert _stamp(root, "a") > stamps["a"]
    assert any("failed  work/b" in line for line in logs)
    assert Path.cwd() == tmp_path.resolve() or os.getcwd() == str(tmp_path)
    # an edited notebook invalidates its entries and their dependants, nothing else
    _notebook(nbdir / "total.ipynb", SUM + "\n# edited")
    s5 = run_suite(_entries(), scale="smoke", results_root=root, notebooks_dir=nbdir, log=logs.append)
    assert list(s5["status"]) == ["cached", "cached", "cached", "ok"]


def test_select_pulls_in_dependencies_and_rejects_bad_plans():
    entries = _entries()
    todo, chosen = select(entries, ["total"])
    assert chosen == {"total/all"} and len(todo) == 4
    assert [e.name for e in select(entries, ["work/*"])[0]] == ["work/a", "work/b", "work/c"]
    with pytest.raises(ValueError, match="matches no entry"):
        select(entries, ["nothing"])
    with pytest.raises(ValueError, match="unknown entry"):
        select([Entry("x", "1", after=("y/2",))], None)
    with pytest.raises(ValueError, match="unique"):
        select([Entry("x", "1"), Entry("x", "1")], None)


def test_missing_notebook_is_named(tmp_path, nbdir):
    with pytest.raises(FileNotFoundError, match="entry ghost/1: notebook"):
        run_suite([Entry("ghost", "1")], scale="smoke", results_root=tmp_path, notebooks_dir=nbdir)


def test_scrub_paths_longest_first():
    text = "/a/b/results/x and /a/b/y"
    assert scrub_paths(text, {"/a/b": "<project>", "/a/b/results": "<results>"}) == "<results>/x and <project>/y"


def test_command_exit_code_and_summary(tmp_path, nbdir, monkeypatch, capsys):
    import rtmposelib.suite.runner as runner
    from rtmposelib.cli import main

    argv = ["suite", "--scale", "smoke", "--notebooks", str(nbdir), "--results", str(tmp_path), "--jobs", "1"]
    monkeypatch.setattr(runner, "plan", lambda scale, **_: [Entry("work", "x", {"fail": True}, key_metric="value")])
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert re.search(r"work/x\s+failed\s+[0-9.]+\s+(None|NaN)", out)
    assert "0/1 entries succeeded" in out and "AssertionError: deliberate failure" in out
    monkeypatch.setattr(runner, "plan", lambda scale, **_: [Entry("work", "x", {"value": 4.0}, key_metric="value")])
    assert main(argv) == 0
    assert "1/1 entries succeeded" in capsys.readouterr().out


def test_source_digest_changes_with_the_library_code(tmp_path):
    from rtmposelib.suite.runner import entry_hash, source_digest

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    before = source_digest(pkg)
    assert source_digest(pkg) == before
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    after = source_digest(pkg)
    assert after != before
    (pkg / "notes.txt").write_text("not code")
    assert source_digest(pkg) == after
    nb = tmp_path / "nb"
    nb.mkdir()
    _notebook(nb / "work.ipynb", WRITE)
    e = Entry("work", "a", {"value": 1.0})
    assert entry_hash(e, nb, [], before) != entry_hash(e, nb, [], after)
    assert len(source_digest()) == 16                                 # the installed library


def test_an_interrupted_run_leaves_only_a_scrubbed_notebook(tmp_path, monkeypatch):
    """papermill writes its output after each cell; a run stopped midway must not leave machine paths."""
    import papermill

    from rtmposelib.suite.runner import _execute

    home = str(Path.home())

    def stopped_midway(_src, output, **_):
        Path(output).write_text(json.dumps({"cells": [f"{home}/.cache/rtmposelib/synthpose/n800"]}))
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", stopped_midway)
    run_dir = tmp_path / "results" / "smoke" / "work" / "x"
    with pytest.raises(KeyboardInterrupt):
        _execute(Entry("work", "x"), scale="smoke", notebooks_dir=tmp_path, run_dir=run_dir,
                 results_root=tmp_path / "results", timeout=10, kernel="python3")
    text = (run_dir / "work.ipynb").read_text()
    assert home not in text and "<home>/.cache/rtmposelib/synthpose/n800" in text
