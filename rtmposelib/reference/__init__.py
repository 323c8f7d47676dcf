"""The paper's numbers (Jiang et al. 2023, Tables 1-12 and the Fig. 3 roadmap): their one home.

The values are transcribed from the paper's text into ``paper_tables.csv`` beside this file, in long
form (table, row, column, value, note): one number per line, so that any of our measurements can be
joined to the number it reproduces. ``table`` is "1" ... "12", "fig3" (the roadmap bars, read by
``rtmposelib.roadmap.Step.paper_ap``) or "text" (AP values quoted in Sec. 3.4 only). Cells the paper
leaves empty or marks "N/A"/"unstable" have no value (NaN) and say so in ``note``. No module repeats
these numbers as literals (``tests/test_paper.py`` checks it); they read them here. The file is read on
first use, not on import.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

COLUMNS = ("table", "row", "column", "value", "note")


@lru_cache(maxsize=1)
def _all_tables() -> pd.DataFrame:
    path = resources.files("rtmposelib") / "reference" / "paper_tables.csv"
    with resources.as_file(path) as p:
        df = pd.read_csv(p, dtype={"table": str, "row": str, "column": str, "note": str},
                         keep_default_na=False, na_values={"value": [""]})
    if tuple(df.columns) != COLUMNS:
        raise ValueError(f"{path}: expected columns {COLUMNS}, got {tuple(df.columns)}")
    df["value"] = df["value"].astype(float)
    return df


def paper_values() -> pd.DataFrame:
    """Every transcribed number: a long DataFrame with columns table, row, column, value, note."""
    return _all_tables().copy()


def table_key(table: int | str) -> str:
    """The CSV's name of a table: 3 -> "3", "Fig. 3" -> "fig3"; unknown tables raise ValueError."""
    key = str(table).lower().replace("fig. ", "fig").replace("fig ", "fig")
    known = sorted(set(_all_tables()["table"]))
    if key not in known:
        raise ValueError(f"no paper table {table!r}; transcribed tables are {known}")
    return key


def paper_table(table: int | str, *, wide: bool = True) -> pd.DataFrame:
    """One table of the paper.

    ``wide=True`` gives the table's own layout (index = row, one column per paper column, in the
    paper's order); ``wide=False`` the long rows (row, column, value, note).
    """
    df = _all_tables()
    part = df[df["table"] == table_key(table)].drop(columns="table").reset_index(drop=True)
    if not wide:
        return part
    rows = list(dict.fromkeys(part["row"]))
    cols = list(dict.fromkeys(part["column"]))
    out = part.pivot(index="row", columns="column", values="value").reindex(index=rows, columns=cols)
    out.index.name, out.columns.name = "row", None
    return out


def paper_value(table: int | str, row: str, column: str) -> float:
    """One number of the paper; NaN when the paper has no such cell."""
    t = paper_table(table)
    if row not in t.index or column not in t.columns:
        return float("nan")
    return float(t.loc[row, column])
