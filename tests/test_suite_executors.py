"""The suite on a cluster: submitit jobs (its local executor standing in for Slurm) give the local run's
results and share its cache; cluster resources from flags and a config file."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from rtmposelib.cli import main
from rtmposelib.suite.executors import ClusterConfig, JobResources, SubmititPool, load_cluster_config
from rtmposelib.suite.plan import plan
from rtmposelib.suite.runner import run_suite


def test_cluster_config_from_file_and_flags(tmp_path):
    cfg_file = tmp_path / "cluster.toml"
    cfg_file.write_text('partition = "gpu"\ngpus = 4\ntime_min = 600\n[notebooks.speed_tables]\ngpus = 1\n')
    cfg = load_cluster_config(cfg_file, partition=None, gpus=None, cpus=16, mem_gb=None, time_min=None)
    train, tables, speed = (cfg.for_notebook(n) for n in ("train_step", "eval_tables", "speed_tables"))
    assert (train.partition, train.gpus, train.cpus, train.time_min) == ("gpu", 4, 16, 600)
    assert tables.gpus == 0 and speed.gpus == 1 and speed.partition == "gpu"
    assert load_cluster_config(cfg_file, gpus=2).for_notebook("train_size").gpus == 2       # flags win
    cfg_file.write_text("gpu = 4\n")
    with pytest.raises(ValueError, match="unknown keys"):
        load_cluster_config(cfg_file)


@pytest.mark.slow
def test_submitit_jobs_give_the_local_results_and_the_same_cache_key(tmp_path):
    """A subset of the smoke plan (one entry: each papermill run costs tens of seconds on a shared CPU). The
    same record hash means either executor's run is the other's cache hit."""
    only = ["table1_complexity"]
    config = ClusterConfig(default=JobResources(cpus=1, time_min=10), gpus=0)
    pool = lambda max_workers: SubmititPool(tmp_path / "jobs", config, cluster="local", max_workers=max_workers)  # noqa: E731
    saved = dict(os.environ)
    try:                                        # both runs at once: each waits on its own kernel process
        with ThreadPoolExecutor(2) as both:
            local = both.submit(run_suite, plan("smoke"), scale="smoke", results_root=tmp_path / "local",
                                only=only, log=lambda *_: None)
            cluster = both.submit(run_suite, plan("smoke"), scale="smoke", results_root=tmp_path / "cluster",
                                  only=only, pool_factory=pool, log=lambda *_: None)
            local, cluster = local.result(), cluster.result()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert list(local["status"]) == list(cluster["status"]) == ["ok"]
    run = "smoke/table1_complexity/tables"
    assert (json.loads((tmp_path / "local" / run / "metrics.json").read_text())
            == json.loads((tmp_path / "cluster" / run / "metrics.json").read_text()))
    assert (json.loads((tmp_path / "local" / run / "suite.json").read_text())["hash"]
            == json.loads((tmp_path / "cluster" / run / "suite.json").read_text())["hash"])
    assert list((tmp_path / "jobs").rglob("*_result.pkl"))                  # it really went through submitit


def test_suite_flags_reach_the_executor(tmp_path, capsys):
    bad = tmp_path / "cluster.json"
    bad.write_text("{not json")
    assert main(["suite", "--scale", "smoke", "--executor", "slurm", "--slurm-config", str(bad),
                 "--results", str(tmp_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
