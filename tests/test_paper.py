"""The transcribed paper tables: spot values against the paper's text, the roadmap, and the exports."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from rtmposelib.roadmap import STEPS
from rtmposelib.suite import paper


def test_fig3_matches_the_roadmap_steps():
    fig3 = paper.paper_table("fig3")["AP"]
    assert list(fig3.index) == [s.name for s in STEPS]
    assert list(fig3.values) == [s.paper_ap for s in STEPS]


@pytest.mark.parametrize("table,row,column,value", [
    (1, "SimCC*", "Head Params(M)", 0.079),
    (1, "Heatmap", "Total FLOPs(G)", 5.45),
    (2, "7x7", "mAP", 73.3),
    (4, "RTMPose-m / RTMDet-nano / AIC+COCO", "AP", 73.2),
    (4, "RTMPose-l / RTMDet-m / AIC+COCO", "AP", 76.6),
    (5, "RTMPose-s", "AP", 77.1),
    (6, "RTMPose-l* 384x288", "whole-body AP", 67.0),
    (8, "CrowdPose / RTMPose-m*", "AP", 70.6),
    (9, "RTMPose-m*", "PCKh@0.5", 90.7),
    (11, "COCO / RTMPose-m", "CPU(ms)", 11.060),
    (12, "RTMDet-nano + RTMPose-l", "Mobile(ms)", 47.642),
])
def test_spot_values_equal_the_paper_text(table, row, column, value):
    assert paper.paper_table(table).loc[row, column] == value


def test_every_table_is_present_and_cells_are_explained():
    df = paper.paper_values()
    assert set(df["table"]) == {str(n) for n in range(1, 13)} | {"fig3", "text"}
    assert not df.duplicated(["table", "row", "column"]).any()
    missing = df[df["value"].isna()]
    assert (missing["note"].str.len() > 0).all()
    assert paper.paper_table(3).loc["1", "mAP"] != paper.paper_table(3).loc["1", "mAP"]  # "unstable" -> NaN
    assert "unstable" in paper.paper_table(3, wide=False).set_index("row").loc["1", "note"]


def test_unknown_table_names_the_choices():
    with pytest.raises(ValueError, match="transcribed tables are"):
        paper.paper_table(13)


def test_side_by_side_long_and_wide_agree_and_keep_our_extra_rows():
    wide = pd.DataFrame({"mAP": [72.0, 73.5, 1.0]}, index=["1x1", "7x7", "11x11"])
    long = pd.DataFrame({"row": ["1x1", "7x7", "11x11"], "column": "mAP", "value": [72.0, 73.5, 1.0]})
    a, b = paper.side_by_side(wide, 2), paper.side_by_side(long, 2)
    pd.testing.assert_frame_equal(a, b)
    got = a.set_index("row")
    assert math.isclose(got.loc["1x1", "diff"], 72.0 - 72.8)
    assert math.isclose(got.loc["7x7", "diff"], 73.5 - 73.3)
    assert math.isnan(got.loc["3x3", "ours"]) and got.loc["3x3", "paper"] == 73.2
    assert math.isnan(got.loc["11x11", "paper"]) and got.loc["11x11", "note"] == "not in the paper"
    assert list(a["row"][:5]) == ["1x1", "3x3", "5x5", "7x7", "9x9"]


def test_markdown_and_latex_exports(tmp_path):
    ours = pd.DataFrame({"mAP": [73.0]}, index=["5"])
    joined = paper.export_side_by_side(ours, 3, tmp_path, digits=1)
    md = (tmp_path / "table3_side_by_side.md").read_text().splitlines()
    assert md[0] == "| row | column | paper | ours | diff | note |"
    assert len(md) == 2 + len(joined)
    assert "| 5 | mAP | 73.1 | 73.0 | -0.1 | 1/tau |" in md
    assert "| 1 | mAP | – | – | – | unstable |" in md
    tex = (tmp_path / "table3_side_by_side.tex").read_text()
    assert "\\begin{tabular}" in tex and "73.1" in tex
    assert pd.read_csv(tmp_path / "table3_side_by_side.csv").shape == (4, 6)


def _float_literals(path):
    import ast

    return {(node.value, node.lineno) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, float)}


def test_paper_numbers_have_one_definition():
    """The paper's numbers with three decimals (latencies, Table 1's sizes, ...) appear as literals only
    in ``rtmposelib/reference/paper_tables.csv``: no library module repeats them."""
    from pathlib import Path

    import rtmposelib

    values = paper.paper_values()["value"].dropna()
    distinctive = {float(v) for v in values if v >= 0.1 and round(v, 2) != v}
    assert len(distinctive) > 25
    package = Path(rtmposelib.__file__).parent
    repeated = [f"{p.relative_to(package)}:{line} {value}" for p in sorted(package.rglob("*.py"))
                if "reference" not in p.relative_to(package).parts
                for value, line in _float_literals(p) if value in distinctive]
    assert not repeated, f"paper numbers repeated outside reference/paper_tables.csv: {repeated}"
