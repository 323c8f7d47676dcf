"""The paper's numbers next to ours: side-by-side tables and their markdown / LaTeX exports.

The numbers themselves live in :mod:`rtmposelib.reference` (``reference/paper_tables.csv``);
``paper_table`` and ``paper_values`` are that module's, imported here for the notebooks.
Table markdown is written here (pandas' ``to_markdown`` needs ``tabulate``, which we do not depend on).
"""
from __future__ import annotations

import math

import pandas as pd

from rtmposelib.reference import paper_table, paper_values, table_key

__all__ = ["export_side_by_side", "paper_table", "paper_values", "side_by_side", "to_latex", "to_markdown"]


def _as_long(ours: pd.DataFrame) -> pd.DataFrame:
    """Accept our values long (row, column, value) or wide (index = row, columns = paper columns)."""
    if {"row", "column", "value"} <= set(ours.columns):
        long = ours[["row", "column", "value"]].copy()
    else:
        long = ours.copy()
        long.index = long.index.astype(str)
        long = long.rename_axis("row").reset_index().melt(id_vars="row", var_name="column", value_name="value")
    long["row"], long["column"] = long["row"].astype(str), long["column"].astype(str)
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return long


def side_by_side(ours: pd.DataFrame, table: int | str) -> pd.DataFrame:
    """Our values beside the paper's: columns row, column, paper, ours, diff (= ours - paper), note.

    ``ours`` names rows and columns as the paper table does (see ``paper_table(n)``), long or wide.
    Every paper cell appears (ours = NaN where we did not measure it); our rows that the paper lacks
    are appended with paper = NaN, so nothing we measured is dropped.
    """
    paper = paper_table(table, wide=False).rename(columns={"value": "paper"})
    mine = _as_long(ours).rename(columns={"value": "ours"})
    out = paper.merge(mine, on=["row", "column"], how="outer", sort=False)
    order = {r: i for i, r in enumerate(dict.fromkeys(list(paper["row"]) + list(mine["row"])))}
    out = out.sort_values("row", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    out["diff"] = out["ours"] - out["paper"]
    out["note"] = out["note"].fillna("not in the paper")
    return out[["row", "column", "paper", "ours", "diff", "note"]]


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value).replace("|", "\\|")


def to_markdown(df: pd.DataFrame, *, digits: int = 3, index: bool = False) -> str:
    """A GitHub-flavoured markdown table; NaN shows as an en dash, floats with ``digits`` decimals."""
    frame = df.reset_index() if index else df
    head = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, digits) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_latex(df: pd.DataFrame, *, digits: int = 3, caption: str | None = None, index: bool = False) -> str:
    """A LaTeX tabular (pandas' writer; NaN as --)."""
    return df.to_latex(index=index, float_format=lambda v: f"{v:.{digits}f}", na_rep="--", caption=caption)


def export_side_by_side(ours: pd.DataFrame, table: int | str, out_dir, *, digits: int = 2) -> pd.DataFrame:
    """Write ``table<N>_side_by_side.{csv,md,tex}`` into ``out_dir`` and return the joined frame."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    joined = side_by_side(ours, table)
    key = table_key(table)
    stem = f"{'table' if key.isdigit() else ''}{key}_side_by_side"
    joined.to_csv(out / f"{stem}.csv", index=False)
    (out / f"{stem}.md").write_text(to_markdown(joined, digits=digits))
    (out / f"{stem}.tex").write_text(to_latex(joined, digits=digits, caption=f"Paper table {table}: paper vs ours"))
    return joined
