"""The COCO person filter: its rules, one skip vocabulary, and one definition in the library."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rtmposelib
from rtmposelib.data.person_filter import CROWD, NO_KEYPOINTS, NON_POSITIVE_BOX, person_skip_reason

PERSON = {"bbox": [10, 10, 30, 40], "keypoints": [15, 20, 2] + [0, 0, 0] * 16, "num_keypoints": 1}


@pytest.mark.parametrize("change,reason", [
    ({}, None),
    ({"iscrowd": 1}, CROWD),
    ({"num_keypoints": 0}, NO_KEYPOINTS),
    ({"keypoints": [0, 0, 0] * 17, "num_keypoints": 3}, NO_KEYPOINTS),     # labelled but all at 0
    ({"bbox": [150, 10, 30, 40]}, NON_POSITIVE_BOX),                        # right of the image
    ({"bbox": [10, 10, 0, 40]}, NON_POSITIVE_BOX),
])
def test_rules(change, reason):
    assert person_skip_reason({**PERSON, **change}, (100, 80)) == reason


def test_box_only_data_ignores_keypoints_and_num_keypoints_defaults_to_the_labelled_points():
    assert person_skip_reason({"bbox": [1, 1, 5, 5]}, (100, 80), require_keypoints=False) is None
    assert person_skip_reason({"bbox": [1, 1, 5, 5]}, (100, 80)) == NO_KEYPOINTS
    no_count = {k: v for k, v in PERSON.items() if k != "num_keypoints"}
    assert person_skip_reason(no_count, (100, 80)) is None


def test_the_filter_has_one_definition():
    """Only rtmposelib/data/person_filter.py reads ``iscrowd`` to decide who is a person; the datasets,
    the ground-truth detector and the detector's training data call it."""
    package = Path(rtmposelib.__file__).parent
    readers = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "iscrowd"):
                readers.append(str(path.relative_to(package)))
    # the evaluator's own rules, not the dataset's: coco_eval fills a missing iscrowd for pycocotools and
    # bootstrap counts the ground truths COCOeval does not ignore
    allowed = {"data/person_filter.py", "eval/coco_eval.py", "eval/bootstrap.py"}
    assert set(readers) <= allowed, readers
    users = {str(p.relative_to(package)) for p in package.rglob("*.py") if "person_skip_reason(" in p.read_text()}
    assert {"data/coco.py", "infer/detector.py", "detect/det_data.py"} <= users
