"""Where the suite's entries run: in local threads (the default) or as Slurm jobs through submitit.

:func:`rtmposelib.suite.runner.run_suite` keeps the plan's order, the cache and the records; it only
hands each ready entry to a *pool* (``submit(fn, *args, **kwargs) -> Future``). The local pool is a
thread pool. :class:`SubmititPool` submits every entry as one job -- the same call the local pool makes,
pickled by submitit -- with the entry's resources (:class:`JobResources`), and its future completes when
the job ends. Dependencies are those of the local plan: an entry is submitted only once the entries it
depends on have succeeded, so the results and the cache under ``--results`` (on a filesystem shared
with the nodes) are the same as for a local run. ``cluster="local"`` runs the jobs as local processes
through submitit's own local executor (no Slurm needed: a dry run of the cluster path).

Resources come from flags (``--partition``, ``--gpus``, ``--time``, ``--cpus``, ``--mem``) or a config file
(``--slurm-config FILE``, TOML or JSON) with the same keys at the top level and per-notebook overrides in
``[notebooks.<name>]``; flags win over the file. GPUs go to the training notebooks (``GPU_NOTEBOOKS``)
unless a notebook's own section says otherwise.

The ``rtmpose suite`` process orchestrates: it stays up while the jobs run (start it in tmux / screen, or
as a small CPU job) and writes each entry's record when its job ends. If it stops, its jobs are
cancelled; a rerun skips the entries already recorded and resubmits the rest.
"""
from __future__ import annotations

import argparse
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

GPU_NOTEBOOKS = ("train_step", "train_size", "pretrain_heatmap")
EXECUTORS = ("local", "slurm", "submitit-local")


@dataclass(frozen=True)
class JobResources:
    """One job's request. time_min: the job's time limit in minutes."""

    partition: str = ""
    gpus: int = 0
    cpus: int = 8
    mem_gb: float = 64.0
    time_min: int = 3 * 24 * 60
    nodes: int = 1


@dataclass(frozen=True)
class ClusterConfig:
    """Resources of every entry: ``default`` for all, GPUs for the training notebooks, per-notebook
    overrides in ``notebooks``."""

    default: JobResources = JobResources()
    gpus: int = 8                                                   # for GPU_NOTEBOOKS
    notebooks: dict[str, JobResources] = field(default_factory=dict)

    def for_notebook(self, notebook: str) -> JobResources:
        if notebook in self.notebooks:
            return self.notebooks[notebook]
        return replace(self.default, gpus=self.gpus if notebook in GPU_NOTEBOOKS else 0)


_KEYS = {"partition": str, "gpus": int, "cpus": int, "mem_gb": float, "time_min": int, "nodes": int}


def _resources(base: JobResources, values: dict, source: str) -> JobResources:
    unknown = sorted(set(values) - set(_KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown keys {unknown}; known: {sorted(_KEYS)}")
    try:
        return replace(base, **{k: _KEYS[k](v) for k, v in values.items()})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: {err}") from None


def load_cluster_config(path: str | Path | None = None, **flags) -> ClusterConfig:
    """A ClusterConfig from a TOML / JSON file (optional) and flag values (None = not given)."""
    data: dict = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"cluster config file not found: {p}")
        text = p.read_text()
        try:
            if p.suffix == ".json":
                data = json.loads(text)
            else:
                import tomllib
                data = tomllib.loads(text)
        except ValueError as err:
            raise ValueError(f"{p}: not valid {'JSON' if p.suffix == '.json' else 'TOML'} ({err})") from None
    per_notebook = data.pop("notebooks", {}) or {}
    top = {k: v for k, v in data.items()}
    top.update({k: v for k, v in flags.items() if v is not None})
    gpus = int(top.pop("gpus", ClusterConfig.gpus))
    default = _resources(JobResources(), top, str(path or "flags"))
    notebooks = {name: _resources(replace(default, gpus=gpus if name in GPU_NOTEBOOKS else 0), values,
                                  f"{path} [notebooks.{name}]") for name, values in per_notebook.items()}
    return ClusterConfig(default=default, gpus=gpus, notebooks=notebooks)


class SubmititPool:
    """A pool whose ``submit`` runs the call as a submitit job (module docstring). ``resources_of``: the
    job's resources from the call's arguments (the suite passes the entry first)."""

    def __init__(self, folder: str | Path, config: ClusterConfig, *, cluster: str = "slurm",
                 max_workers: int = 64) -> None:
        import submitit

        self.folder = Path(folder)
        self.config = config
        self.cluster = cluster
        self._submitit = submitit
        self._waiters = ThreadPoolExecutor(max_workers=max(1, max_workers))
        self._lock = threading.Lock()
        self.jobs: list = []

    def _executor(self, name: str, res: JobResources):
        ex = self._submitit.AutoExecutor(folder=self.folder / "%j", cluster=self.cluster)
        params = dict(name=name, timeout_min=res.time_min, gpus_per_node=res.gpus, cpus_per_task=res.cpus,
                      nodes=res.nodes)
        if self.cluster == "slurm":
            params.update(mem_gb=res.mem_gb, slurm_partition=res.partition or None)
        ex.update_parameters(**{k: v for k, v in params.items() if v is not None})
        return ex

    def submit(self, fn, entry, *args, **kwargs) -> Future:
        res = self.config.for_notebook(entry.notebook)
        with self._lock:
            job = self._executor(f"rtmpose-{entry.notebook}-{entry.run}", res).submit(
                _with_threads, max(1, res.cpus), fn, entry, *args, **kwargs)
            self.jobs.append(job)
        return self._waiters.submit(_wait, job, entry.name)

    def __enter__(self) -> SubmititPool:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:                # the suite stopped (Ctrl-C, an error): cancel its jobs
            for job in self.jobs:
                job.cancel(check=False)
        self._waiters.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)


def _with_threads(threads: int, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the node with the job's CPUs as the thread count of the kernels it starts."""
    import os

    from rtmposelib.suite.runner import THREAD_VARS

    os.environ.update({k: str(threads) for k in THREAD_VARS})
    return fn(*args, **kwargs)


def _wait(job, name: str):
    """The job's return value; a job that died (time limit, node failure) is a failed entry."""
    try:
        return job.result()
    except Exception as err:  # noqa: BLE001 - submitit raises the job's failure: reported, never fatal
        return "failed", f"job {job.job_id} of {name}: {type(err).__name__}: {str(err).strip().splitlines()[-1][:200]}"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``rtmpose suite`` flags of the executors."""
    g = parser.add_argument_group("cluster (--executor slurm)")
    g.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local threads (default) | slurm: one Slurm job per entry through submitit | "
                        "submitit-local: the same jobs as local processes (a dry run)")
    g.add_argument("--slurm-config", metavar="FILE", help="TOML / JSON: partition, gpus, cpus, mem_gb, time_min, "
                                                           "nodes, [notebooks.<name>] overrides")
    g.add_argument("--partition", default=None)
    g.add_argument("--gpus", type=int, default=None, help="GPUs per training job (default 8)")
    g.add_argument("--cpus", type=int, default=None, help="CPUs per job (default 8)")
    g.add_argument("--mem", dest="mem_gb", type=float, default=None, help="GB per job (default 64)")
    g.add_argument("--time", dest="time_min", type=int, default=None, help="time limit per job in minutes "
                                                                              "(default 3 days)")
    g.add_argument("--jobs-folder", default=None, help="submitit logs (default: <results>/<scale>/.jobs)")


def make_pool(args: argparse.Namespace):
    """A pool factory for ``run_suite`` (None = the local thread pool)."""
    if getattr(args, "executor", "local") == "local":
        return None
    config = load_cluster_config(args.slurm_config, partition=args.partition, gpus=args.gpus, cpus=args.cpus,
                                 mem_gb=args.mem_gb, time_min=args.time_min)
    folder = Path(args.jobs_folder or Path(args.results) / args.scale / ".jobs").resolve()
    cluster = "slurm" if args.executor == "slurm" else "local"

    def factory(max_workers: int) -> SubmititPool:
        return SubmititPool(folder, config, cluster=cluster, max_workers=max(64, max_workers))

    return factory


def describe(config: ClusterConfig) -> str:
    """One line per distinct request, for the preflight and the log."""
    return json.dumps({"default": asdict(config.default), "gpus_for": list(GPU_NOTEBOOKS), "gpus": config.gpus,
                       "notebooks": {k: asdict(v) for k, v in config.notebooks.items()}})
