"""``rtmpose report``: one self-contained HTML page of a scale's results, ``results/<scale>/report.html``.

The page holds, per suite entry of the plan, every figure (PNG embedded as base64) and every table it
wrote, ours beside the paper's (the paper tables the entry wrote, or those its figure redraws); a
summary of the training runs; the machine fingerprint; and the suite's per-entry record (status,
seconds) with its cache state: "up to date" when the recorded hash equals the hash the suite would
compute now, "stale" when notebook, parameters, library source or a dependency changed since, and
"missing" without a record. The page has no script and loads nothing from outside itself.
``--screenshot`` renders it in headless Chromium, saves the first screen as ``report.png`` and
reports the browser console's messages (none expected).
"""
from __future__ import annotations

import argparse
import base64
import datetime
import html
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

import rtmposelib
from rtmposelib.suite import paper, results
from rtmposelib.suite.plan import Entry, plan
from rtmposelib.suite.scales import SCALES

REPORT_FILE = "report.html"
SCREENSHOT_FILE = "report.png"
TRAINING_NOTEBOOKS = ("train_step", "train_size", "pretrain_heatmap")
# the paper tables an entry's figures or tables redraw, shown beside ours when the entry did not write them
PAPER_TABLES = {"table1_complexity": (1,), "sweeps": (2, 3), "speed_accuracy": (4, 11), "speed_tables": (10, 11, 12)}
MAX_COLUMNS, MAX_ROWS = 24, 200
RUN_COLUMNS = ("name", "step", "size", "seed", "kernel_size", "inv_temperature", "AP", "AP50", "AR", "iterations",
               "train_seconds")


def machine_fingerprint() -> dict[str, str]:
    """What the numbers were measured on: CPU model and count, OS, Python and key library versions, and
    the library's source digest."""
    import numpy
    import torch

    from rtmposelib.suite.runner import source_digest

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import onnxruntime
        ort = onnxruntime.__version__
    except ImportError:
        ort = "absent"
    return {"cpu": cpu, "logical cores": str(os.cpu_count()), "os": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch threads": str(torch.get_num_threads()),
            "cuda": str(torch.cuda.is_available()), "onnxruntime": ort, "numpy": numpy.__version__,
            "pandas": pd.__version__, "rtmposelib": rtmposelib.__version__, "library source digest": source_digest()}


def entry_states(entries: list[Entry], scale_root: Path, notebooks_dir: Path) -> pd.DataFrame:
    """Per entry: its suite record (status, seconds, error) and cache state (up to date / stale / missing)."""
    from rtmposelib.suite.runner import RECORD_FILE, entry_hash, source_digest

    source = source_digest()
    by_name = {e.name: e for e in entries}
    hashes: dict[str, str] = {}

    def current(name: str) -> str:
        if name not in hashes:
            e = by_name[name]
            hashes[name] = entry_hash(e, notebooks_dir, [current(d) for d in e.after], source)
        return hashes[name]

    rows = []
    for e in entries:
        record_file = scale_root / e.notebook / e.run / RECORD_FILE
        record = json.loads(record_file.read_text()) if record_file.is_file() else {}
        if not record:
            cache = "missing"
        elif (notebooks_dir / f"{e.notebook}.ipynb").is_file() and record.get("hash") == current(e.name):
            cache = "up to date"
        else:
            cache = "stale"
        rows.append({"entry": e.name, "status": record.get("status", "not run"), "seconds": record.get("seconds"),
                     "cache": cache, "error": record.get("error", "")})
    return pd.DataFrame(rows, columns=["entry", "status", "seconds", "cache", "error"])


def _table_html(df: pd.DataFrame, anchor: str, caption: str) -> str:
    note = ""
    if df.shape[1] > MAX_COLUMNS:
        note += f" (first {MAX_COLUMNS} of {df.shape[1]} columns)"
        df = df.iloc[:, :MAX_COLUMNS]
    if len(df) > MAX_ROWS:
        note += f" (first {MAX_ROWS} of {len(df)} rows)"
        df = df.head(MAX_ROWS)
    body = df.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.4g}", border=0, classes="t")
    return f'<figure class="table" id="{anchor}"><figcaption>{html.escape(caption + note)}</figcaption>{body}</figure>'


def _figure_html(png: Path, anchor: str, caption: str) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f'<figure class="fig" id="{anchor}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f'<figcaption>{html.escape(caption)}</figcaption></figure>')


def anchor(kind: str, entry: str, name: str) -> str:
    """The HTML id of a figure or table (``kind`` "figure" | "table") of ``entry`` ("notebook/run")."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{kind}-{entry}-{name}")


def report_items(entries: list[Entry], scale_root: Path) -> dict[str, dict[str, list[Path]]]:
    """Per non-training entry, the figures (PNG) and tables (CSV) it wrote: ``{entry: {"figures", "tables"}}``."""
    out = {}
    for e in entries:
        if e.notebook in TRAINING_NOTEBOOKS:
            continue
        d = scale_root / e.notebook / e.run
        out[e.name] = {"figures": sorted(d.glob("*.png")), "tables": sorted(d.glob("*.csv"))}
    return out


def training_runs(scale_root: Path) -> pd.DataFrame:
    """One row per training run of the scale (its ``metrics.json``; runs without one are left out)."""
    rows = []
    for notebook in TRAINING_NOTEBOOKS:
        for f in sorted((scale_root / notebook).glob(f"*/{results.METRICS_FILE}")):
            try:
                metrics = json.loads(f.read_text())
            except json.JSONDecodeError as err:
                raise ValueError(f"{f}: malformed JSON ({err})") from None
            rows.append({"name": f"{notebook}/{f.parent.name}", **metrics})
    df = pd.DataFrame(rows)
    return df[[c for c in RUN_COLUMNS if c in df.columns]] if len(df) else pd.DataFrame(columns=["name"])


CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:16px auto;padding:0 24px;
max-width:1500px;color:#222}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start} .figs figure{flex:0 1 auto;max-width:100%}
h1{margin-bottom:4px} h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
.fig img{max-width:100%;border:1px solid #eee} figure{margin:12px 0} figcaption{font-size:13px;color:#555}
.pair{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap} .pair>div{flex:1 1 560px;min-width:0;overflow-x:auto}
table.t{border-collapse:collapse;font-size:12px}
table.t td,table.t th{border:1px solid #ddd;padding:2px 6px;text-align:right}
table.t th{background:#f4f4f4} .meta td{padding:1px 12px 1px 0;font-size:13px} nav a{margin-right:10px;font-size:13px}
.ok{color:#2a7a2a} .bad{color:#b00}"""


def build_report(results_root: str | Path, scale: str, *, notebooks_dir: str | Path | None = None) -> str:
    """The report page of ``results_root/<scale>`` as HTML text."""
    from rtmposelib.suite.paths import NOTEBOOKS_DIR

    scale_root = Path(results_root) / scale
    if not scale_root.is_dir():
        raise FileNotFoundError(f"no results for scale {scale!r} at {scale_root}; "
                                f"run `rtmpose suite --scale {scale}` first")
    entries = plan(scale)
    states = entry_states(entries, scale_root, Path(notebooks_dir or NOTEBOOKS_DIR))
    items = report_items(entries, scale_root)
    done = int(states["status"].isin(["ok"]).sum())
    parts = [f"<h1>rtmposelib results, {html.escape(scale)} scale</h1>",
             f"<p>Written {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC from "
             f"<code>results/{html.escape(scale)}/</code>: {done} of {len(entries)} suite entries succeeded, "
             f"{float(pd.to_numeric(states['seconds'], errors='coerce').sum()):.0f} s of notebook time.</p>",
             "<nav>" + "".join(f'<a href="#{anchor("entry", n, "")}">{html.escape(n)}</a>' for n in items) +
             '<a href="#training-runs">training runs</a><a href="#suite">suite</a><a href="#machine">machine</a></nav>']
    for name, found in items.items():
        notebook = name.split("/")[0]
        parts.append(f'<h2 id="{anchor("entry", name, "")}">{html.escape(name)}</h2>')
        parts.append('<div class="figs">' + "".join(_figure_html(p, anchor("figure", name, p.stem), f"{name}: {p.stem}")
                                                   for p in found["figures"]) + "</div>")
        ours = [p for p in found["tables"] if not p.stem.startswith("paper_table")]
        theirs = [(p.stem, pd.read_csv(p)) for p in found["tables"] if p.stem.startswith("paper_table")]
        written = {s for s, _ in theirs}
        theirs += [(f"paper_table{n}", paper.paper_table(n).reset_index()) for n in PAPER_TABLES.get(notebook, ())
                   if f"paper_table{n}" not in written]
        left = "".join(_table_html(pd.read_csv(p), anchor("table", name, p.stem), f"ours: {p.stem}") for p in ours)
        right = "".join(_table_html(df, anchor("table", name, stem), f"paper: {stem.replace('paper_table', 'Table ')}")
                        for stem, df in theirs)
        parts.append(f'<div class="pair"><div>{left or "<p>no table</p>"}</div>'
                     f'<div>{right or "<p>the paper column is inside our tables</p>"}</div></div>')
    runs = training_runs(scale_root)
    parts += ['<h2 id="training-runs">Training runs</h2>',
              _table_html(runs, "table-training-runs",
                          "every training run of the scale (AP in percent on its val split)")]
    parts += ['<h2 id="suite">Suite entries: status, time, cache</h2>',
              _table_html(states, "table-suite", "per entry: last recorded status and seconds; cache state against "
                                                 "the current notebooks, parameters and library source")]
    fp = machine_fingerprint()
    parts += ['<h2 id="machine">Machine fingerprint (of the machine that wrote this page)</h2><table class="meta">' +
              "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in fp.items())
              + "</table>"]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>rtmposelib report: {html.escape(scale)}</title><style>{CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def write_report(results_root: str | Path, scale: str, *, notebooks_dir: str | Path | None = None) -> Path:
    """Write ``results_root/<scale>/report.html`` and return its path."""
    path = Path(results_root) / scale / REPORT_FILE
    path.write_text(build_report(results_root, scale, notebooks_dir=notebooks_dir), encoding="utf-8")
    return path


def find_chromium() -> str:
    """The Chromium executable on PATH (``chromium``, ``chromium-browser`` or ``google-chrome``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("no Chromium on PATH (Debian: apt-get install chromium)")


def screenshot(page: str | Path, png: str | Path, *, size: tuple[int, int] = (1400, 1000),
               timeout: float = 120.0) -> list[str]:
    """Render ``page`` in headless Chromium, save its first screen (``size`` = width, height) to ``png``
    and return the browser console's messages (an empty list for a clean page)."""
    page, png = Path(page).resolve(), Path(png).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"page {page} does not exist")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
               page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {page} (exit {proc.returncode}): {proc.stderr[-500:]}")
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu", help="run scale (default: cpu)")
    parser.add_argument("--results", default="results", help="results root (default: results)")
    parser.add_argument("--screenshot", action="store_true",
                        help=f"also render the page in headless Chromium: {SCREENSHOT_FILE} of its first screen, "
                             "and its console messages (exit 1 if any)")


def run(args: argparse.Namespace) -> int:
    path = write_report(args.results, args.scale)
    print(f"[report] {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if not args.screenshot:
        return 0
    messages = screenshot(path, path.with_name(SCREENSHOT_FILE))
    print(f"[report] {path.with_name(SCREENSHOT_FILE)}; {len(messages)} console messages")
    for m in messages:
        print(f"[report] console: {m}")
    return 1 if messages else 0
