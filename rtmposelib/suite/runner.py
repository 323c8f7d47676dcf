"""``rtmpose suite``: the paper's experiments as papermill notebook runs, cached, ordered and summarised.

One suite entry is (notebook, parameters), e.g. ``train_step`` once per roadmap step (Fig. 3) and seed.
Each entry runs in its own papermill process (kernel "rtmposelib", else "python3"; working directory
= the notebooks folder; a per-scale execution timeout) and records under
``<results>/<scale>/<notebook>/<run>/`` what the notebook writes (config.json, metrics.json, CSVs,
PNGs), the executed notebook with machine paths scrubbed, and ``suite.json`` (status, seconds, hash).
An entry is skipped when its hash -- of the notebook's content, its parameters, the library version, a
digest of the library's source files (so a code change reruns everything) and the hashes of the entries
it depends on -- matches a successful earlier run, so a rerun redoes only
missing or failed entries. A failed entry does not stop the others (only its dependents, reported
"blocked"); ``--jobs N`` runs independent entries in parallel. The plan of entries per scale is
:func:`rtmposelib.suite.plan.plan`.

The terminal shows only the suite's own lines. What the kernel process prints (its start-up notices,
C-level output) and what papermill, nbclient, jupyter_client and traitlets log while an entry runs go
to that entry's ``run.log``. Ctrl-C interrupts the running notebooks' kernels (they run in sessions of
their own, out of reach of the terminal's Ctrl-C), keeps the entries that had finished and names the
stopped ones (:class:`SuiteInterrupted`).
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

import rtmposelib
from rtmposelib.data.samples import samples_candidate
from rtmposelib.suite.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from rtmposelib.suite.plan import Entry, plan
from rtmposelib.suite.scales import SCALES, get_scale

RECORD_FILE = "suite.json"
RUN_LOG = "run.log"
TEXT_SUFFIXES = (".ipynb", ".json", ".csv", ".md", ".tex", ".txt", ".log")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RTMPOSE_THREADS")
# the loggers of the notebook machinery; jupyter_client logs through traitlets' logger
RUN_LOGGERS = ("papermill", "nbclient", "jupyter_client", "traitlets")


def kernel_name() -> str:
    """The project's registered kernel ("rtmposelib", set up by ``make``), else the default "python3"."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "rtmposelib" if "rtmposelib" in KernelSpecManager().find_kernel_specs() else "python3"


def scrub_paths(text: str, replacements: dict[str, str]) -> str:
    """Replace machine-specific absolute paths (longest first) with neutral tokens."""
    for path in sorted(replacements, key=len, reverse=True):
        if path and len(path) > 1:
            text = text.replace(path, replacements[path])
    return text


def _path_tokens(results_root: Path, notebooks_dir: Path) -> dict[str, str]:
    tokens = {str(results_root.resolve()): "<results>", str(notebooks_dir.resolve()): "<notebooks>",
              str(PROJECT_ROOT): "<project>", sys.prefix: "<python-env>", tempfile.gettempdir(): "<tmp>",
              str(Path.home()): "<home>"}
    tokens[str(samples_candidate().resolve())] = "<samples>"
    return tokens


def source_digest(package_dir: str | Path = Path(rtmposelib.__file__).parent) -> str:
    """sha256 over the library's ``*.py`` files and data tables (relative path and bytes, sorted)."""
    root = Path(package_dir)
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".csv") and p.is_file()
                    and "__pycache__" not in p.parts):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def entry_hash(entry: Entry, notebooks_dir: Path, dep_hashes: Sequence[str], source: str = "") -> str:
    """The cache key of ``entry``; ``source`` is :func:`source_digest` of the library."""
    nb = notebooks_dir / f"{entry.notebook}.ipynb"
    h = hashlib.sha256()
    h.update(nb.read_bytes())
    h.update(json.dumps(entry.parameters, sort_keys=True).encode())
    h.update(rtmposelib.__version__.encode())
    h.update(source.encode())
    for d in dep_hashes:
        h.update(d.encode())
    return h.hexdigest()[:16]


def _read_record(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / RECORD_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _key_metric(run_dir: Path, key: str | None) -> Any:
    if key is None:
        return None
    try:
        return json.loads((run_dir / "metrics.json").read_text()).get(key)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# the kernels of the entries running in this process: run directory -> the kernel's process group
_KERNELS: dict[str, int] = {}
_KERNELS_LOCK = threading.Lock()


class _ThreadFilter(logging.Filter):
    """Passes the records logged by one thread: entries run side by side in threads of one process."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


@contextmanager
def _run_log(path: Path) -> Iterator[IO[str]]:
    """``path`` (emptied), receiving what :data:`RUN_LOGGERS` log from the calling thread while the context
    is open; yields the open file, for the kernel process's stdout and stderr."""
    with path.open("w", buffering=1) as f:
        handler = logging.StreamHandler(f)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_ThreadFilter(threading.get_ident()))
        loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
        for logger in loggers:
            logger.addHandler(handler)
        try:
            yield f
        finally:
            for logger in loggers:
                logger.removeHandler(handler)


def _kernel_manager_class(run_dir: Path, log: IO[str]) -> type:
    """A jupyter_client kernel manager whose kernel process writes to ``log`` and that registers the
    kernel's process group under ``run_dir`` (for :func:`_stop_kernels`)."""
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kw: Any) -> None:
            # Unix sockets rather than TCP ports where there are Unix sockets: TCP ports are picked free and
            # bound later by the kernel, so two processes starting kernels at once (two suites, a suite
            # beside JupyterLab) can be handed the same port and a client then waits forever on a kernel
            # that is not its own; a socket path is unique
            if os.name == "posix":
                kw.setdefault("transport", "ipc")
                kw.setdefault("ip", os.path.join(tempfile.gettempdir(), f"rtmpose-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kw)

        # jupyter_client types start_kernel as KernelManager's synchronous one; AsyncKernelManager's is a
        # coroutine function, as here
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            await super().start_kernel(**kw)
            pgid = getattr(self.provisioner, "pgid", None) or getattr(self.provisioner, "pid", None)
            if pgid:
                with _KERNELS_LOCK:
                    _KERNELS[str(run_dir)] = int(pgid)

    return RunKernelManager


def _stop_kernels(running: dict[Future, Path], grace: float = 5.0) -> None:
    """Ctrl-C for the notebooks running in this process: SIGINT to each one's kernel (the cell raises
    KeyboardInterrupt and papermill stops), SIGKILL to those still running after ``grace`` seconds or at
    a second Ctrl-C. Returns once every future in ``running`` (future -> run directory) is done."""
    sent: dict[str, int] = {}
    deadline = time.monotonic() + grace
    while not all(fut.done() for fut in running):
        try:
            sig = signal.SIGKILL if time.monotonic() > deadline else signal.SIGINT
            for run_dir in running.values():
                with _KERNELS_LOCK:
                    pgid = _KERNELS.get(str(run_dir))
                if pgid and sent.get(str(run_dir)) != sig:
                    try:
                        os.killpg(pgid, sig)
                    except (ProcessLookupError, PermissionError):   # ended meanwhile
                        pass
                    sent[str(run_dir)] = sig
            wait(list(running), timeout=0.2)
        except KeyboardInterrupt:
            deadline = 0.0


def _execute(entry: Entry, *, scale: str, notebooks_dir: Path, run_dir: Path, results_root: Path,
             timeout: int, kernel: str) -> tuple[str, str]:
    """Run one notebook with papermill (its own kernel process); returns (status, error message).

    The kernel's output and the notebook machinery's log records go to ``run_dir/run.log``."""
    import papermill

    run_dir.mkdir(parents=True, exist_ok=True)
    params = {"scale": scale, "out_dir": str(run_dir.resolve()),
              "results_root": str((results_root / scale).resolve()), **entry.parameters}
    # papermill rewrites its output after every cell; it writes outside the results, so that a run that is
    # killed midway never leaves an executed notebook with machine paths in them
    fd, scratch = tempfile.mkstemp(suffix=".ipynb", prefix=f"{entry.notebook}-")
    os.close(fd)
    tokens = _path_tokens(results_root, notebooks_dir)
    try:
        with _run_log(run_dir / RUN_LOG) as log:
            papermill.execute_notebook(notebooks_dir / f"{entry.notebook}.ipynb", scratch, parameters=params,
                                       kernel_name=kernel, cwd=str(notebooks_dir), execution_timeout=timeout,
                                       progress_bar=False, log_output=False,
                                       kernel_manager_class=_kernel_manager_class(run_dir, log))
        status, error = "ok", ""
    except papermill.PapermillExecutionError as exc:
        status, error = "failed", f"{exc.ename}: {exc.evalue}"[:300]
    except Exception as exc:  # kernel death, timeout, unreadable notebook: reported, never fatal to the suite
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:300]
    finally:   # also on Ctrl-C: the executed notebook and every text record the notebook wrote, scrubbed
        with _KERNELS_LOCK:
            _KERNELS.pop(str(run_dir), None)
        executed, notebook = Path(scratch), run_dir / f"{entry.notebook}.ipynb"
        if executed.stat().st_size:
            notebook.write_text(scrub_paths(executed.read_text(errors="replace"), tokens))
        executed.unlink(missing_ok=True)
        for f in run_dir.rglob("*"):                   # the records the notebook wrote (its copy is done)
            if f.suffix in TEXT_SUFFIXES and f.is_file() and f != notebook:
                f.write_text(scrub_paths(f.read_text(errors="replace"), tokens))
    if status == "ok" and not (run_dir / "metrics.json").is_file():
        status, error = "failed", f"{entry.notebook}.ipynb finished without writing metrics.json"
    return status, error


def select(entries: Sequence[Entry], only: Sequence[str] | None) -> tuple[list[Entry], set[str]]:
    """Entries matching ``only`` (entry name, notebook name or glob), plus everything they depend on.

    Returns (entries to consider, names explicitly selected)."""
    by_name = {e.name: e for e in entries}
    if len(by_name) != len(entries):
        raise ValueError("suite entries must have unique notebook/run names")
    for e in entries:
        for d in e.after:
            if d not in by_name:
                raise ValueError(f"entry {e.name} depends on unknown entry {d}")
    if not only:
        return list(entries), set(by_name)
    chosen = {e.name for e in entries for pat in only
              if pat in (e.name, e.notebook) or fnmatch.fnmatch(e.name, pat)}
    if not chosen:
        raise ValueError(f"--only {list(only)} matches no entry; entries are e.g. {sorted(by_name)[:8]}")
    needed, stack = set(chosen), list(chosen)
    while stack:
        for d in by_name[stack.pop()].after:
            if d not in needed:
                needed.add(d)
                stack.append(d)
    return [e for e in entries if e.name in needed], chosen


class SuiteInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_suite`; the message says what finished, what was stopped, how to go on."""


def progress_line(finished: dict[str, dict[str, Any]], running: Sequence[str], left: int, elapsed: float,
                  jobs: int) -> str:
    """``done d/n, running r, left l; elapsed .., about .. to go`` (the estimate: mean time of the entries
    that ran here, spread over ``jobs`` workers; cached entries cost nothing)."""
    total = len(finished) + len(running) + left
    ran = [r["seconds"] for r in finished.values() if r["status"] in ("ok", "failed")]
    eta = ""
    if ran:
        remaining = sum(ran) / len(ran) * (left + len(running) / 2) / max(1, jobs)
        eta = f", about {_duration(remaining)} to go"
    return (f"done {len(finished)}/{total}, running {len(running)}, left {left}; "
            f"elapsed {_duration(elapsed)}{eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _interrupted_message(finished: dict[str, dict[str, Any]], stopped: Sequence[str]) -> str:
    done = [n for n, r in finished.items() if r["status"] in ("ok", "cached")]
    return (f"interrupted: {len(done)} entries finished ({', '.join(done) or 'none'}); "
            f"stopped: {', '.join(stopped) or 'none'}. Rerun the same command to continue: "
            f"finished entries are reused, the stopped ones run again.")


def run_suite(entries: Sequence[Entry], *, scale: str, results_root: str | Path = "results",
              notebooks_dir: str | Path = NOTEBOOKS_DIR, jobs: int = 1, force: bool = False,
              only: Sequence[str] | None = None, timeout: int | None = None, log=print,
              pool_factory=None) -> pd.DataFrame:
    """Execute ``entries`` in dependency order; returns the summary (entry, status, seconds, metric).

    status: "ok" (ran), "cached" (hash matched a successful run), "failed", "blocked" (a dependency
    did not succeed). ``force`` reruns the selected entries even when cached. ``pool_factory``:
    ``(max_workers=) -> pool`` where the entries run (default: local threads;
    :mod:`rtmposelib.suite.executors` for Slurm jobs).
    """
    # absolute paths throughout: papermill changes the process-wide working directory while a notebook
    # runs (its cwd option), which would move relative paths under the feet of the other jobs
    results_root, notebooks_dir = Path(results_root).resolve(), Path(notebooks_dir).resolve()
    start_cwd = os.getcwd()
    todo, chosen = select(entries, only)
    for e in todo:
        if not (notebooks_dir / f"{e.notebook}.ipynb").is_file():
            raise FileNotFoundError(f"entry {e.name}: notebook {notebooks_dir / (e.notebook + '.ipynb')} not found")
    timeout = timeout or get_scale(scale).timeout
    kernel = kernel_name()
    source = source_digest()
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))   # each kernel's share of the cores
    rows: dict[str, dict[str, Any]] = {}
    hashes: dict[str, str] = {}
    pending = {e.name: e for e in todo}
    running: dict[Future, tuple[Entry, float]] = {}
    suite_t0 = time.perf_counter()

    def finish(e: Entry, status: str, seconds: float, error: str = "") -> None:
        rd = results_root / scale / e.notebook / e.run
        rows[e.name] = {"entry": e.name, "status": status, "seconds": round(seconds, 1),
                        "metric": _key_metric(rd, e.key_metric) if status in ("ok", "cached") else None,
                        "error": error}
        log(f"[suite] {status:>7}  {e.name}  {seconds:.1f}s  {error}".rstrip())
        if status != "cached":
            log("[suite] " + progress_line(rows, [r[0].name for r in running.values()], len(pending),
                                           time.perf_counter() - suite_t0, jobs))

    def start_ready(pool: ThreadPoolExecutor) -> bool:
        """Resolve every pending entry whose dependencies are done; True if anything changed."""
        changed = False
        for name, e in list(pending.items()):
            if any(d not in rows for d in e.after):
                continue
            deps = [rows[d] for d in e.after]
            if e.requires_success and any(r["status"] not in ("ok", "cached") for r in deps):
                del pending[name]
                changed = True
                finish(e, "blocked", 0.0, "a dependency did not succeed")
                continue
            rd = results_root / scale / e.notebook / e.run
            hashes[name] = entry_hash(e, notebooks_dir, [hashes[d] for d in e.after], source)
            record = _read_record(rd)
            cached = (record.get("hash") == hashes[name] and record.get("status") == "ok"
                      and (rd / "metrics.json").is_file())
            if cached and not (force and name in chosen):
                del pending[name]
                changed = True
                finish(e, "cached", 0.0)
                continue
            if len(running) >= max(1, jobs):
                continue
            del pending[name]
            changed = True
            (rd / RECORD_FILE).unlink(missing_ok=True)   # the run overwrites its results: not a cache hit until done
            fut = pool.submit(_execute, e, scale=scale, notebooks_dir=notebooks_dir, run_dir=rd,
                              results_root=results_root, timeout=timeout, kernel=kernel)
            running[fut] = (e, time.perf_counter())
        return changed

    def record(fut: Future) -> None:
        e, t0 = running.pop(fut)
        status, error = fut.result()
        seconds = time.perf_counter() - t0
        (results_root / scale / e.notebook / e.run / RECORD_FILE).write_text(json.dumps(
            {"hash": hashes[e.name], "status": status, "seconds": round(seconds, 1), "error": error,
             "parameters": e.parameters, "library": rtmposelib.__version__}, indent=2) + "\n")
        finish(e, status, seconds, error)

    def interrupted() -> SuiteInterrupted:
        """Stops the local kernels, keeps the entries that finished meanwhile; the others are stopped."""
        if pool_factory is None:          # local threads: their kernels are children of this process
            _stop_kernels({fut: results_root / scale / e.notebook / e.run for fut, (e, _) in running.items()})
        finished = [f for f in running if f.done() and not f.cancelled() and f.exception() is None]
        for fut in finished:
            if fut.result()[0] == "ok":
                record(fut)
        return SuiteInterrupted(_interrupted_message(rows, [e.name for e, _ in running.values()]))

    # inherited by the kernels; Jupyter's inline backend, so that executed notebooks keep their figures
    kernel_env = {**{k: threads for k in THREAD_VARS}, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    saved_env = {k: os.environ.get(k) for k in kernel_env}
    os.environ.update(kernel_env)
    try:
        with (pool_factory or ThreadPoolExecutor)(max_workers=max(1, jobs)) as pool:
            try:
                while pending or running:
                    while start_ready(pool):
                        pass
                    if not running:
                        if pending:   # nothing runnable and nothing running: a cycle
                            raise ValueError(f"dependency cycle among {sorted(pending)}")
                        break
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for fut in done:
                        record(fut)
            except KeyboardInterrupt:     # before the pool's exit, which waits for the running entries
                raise interrupted() from None
    finally:
        os.chdir(start_cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    summary = pd.DataFrame([rows[e.name] for e in todo if e.name in rows],
                           columns=["entry", "status", "seconds", "metric", "error"])
    return summary


def default_jobs(scale: str) -> int:
    """Parallel entries when ``--jobs`` is not given: one per CPU core; 1 at paper scale (GPU runs)."""
    return 1 if scale == "paper" else max(1, os.cpu_count() or 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu", help="run scale (default: cpu)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="entries, notebooks or globs (plus dependencies)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="independent entries run in parallel, one thread each (default: the CPU count; "
                             "1 at paper scale)")
    parser.add_argument("--force", action="store_true", help="rerun selected entries even when cached")
    parser.add_argument("--results", default="results", help="results root (default: results)")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS_DIR),
                        help="folder of the notebooks (default: the project's)")
    parser.add_argument("--imagenet-backbone", default="", metavar="CKPT",
                        help="paper scale: ImageNet CSPNeXt checkpoint for the runs the paper starts from ImageNet "
                             "(default: random init; smoke/cpu use the stand-in run instead)")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--check", action="store_true",
                        help="preflight, trains nothing: data layout, detection file, ImageNet backbone, GPUs, "
                             "free disk, time per entry; exit 1 with one line per problem")
    from rtmposelib.suite.executors import add_executor_arguments
    add_executor_arguments(parser)


def run(args: argparse.Namespace) -> int:
    entries = plan(args.scale, imagenet_backbone=args.imagenet_backbone)
    if args.list:
        for e in entries:
            print(f"{e.name:45s} after {', '.join(e.after) or '-'}")
        return 0
    if args.check:
        from rtmposelib.suite.preflight import run_check
        return run_check(args, entries)
    from rtmposelib.suite.executors import make_pool
    pool_factory = make_pool(args)                  # None: local threads
    if pool_factory is not None and not args.jobs:
        args.jobs = len(entries)                    # cluster: every ready entry is submitted at once
    jobs = args.jobs or default_jobs(args.scale)
    t0 = time.perf_counter()
    try:
        summary = run_suite(entries, scale=args.scale, results_root=args.results, notebooks_dir=args.notebooks,
                            jobs=jobs, force=args.force, only=args.only, pool_factory=pool_factory)
    except SuiteInterrupted as stop:
        print(f"[suite] {stop}")
        return 130
    with pd.option_context("display.max_rows", None, "display.width", 160, "display.max_colwidth", 60):
        print(summary.drop(columns="error").to_string(index=False))
    bad = summary[~summary["status"].isin(["ok", "cached"])]
    print(f"[suite] {len(summary) - len(bad)}/{len(summary)} entries succeeded in "
          f"{time.perf_counter() - t0:.0f} s")
    for _, row in bad.iterrows():
        print(f"[suite] {row['status']}: {row['entry']}: {row['error']}")
    from rtmposelib.suite.report import write_report
    try:                                  # the page summarises the run; it never changes the run's outcome
        print(f"[suite] report: {write_report(args.results, args.scale, notebooks_dir=args.notebooks)}")
    except (ValueError, FileNotFoundError, OSError) as err:
        print(f"[suite] report not written: {err}")
    return 1 if len(bad) else 0
