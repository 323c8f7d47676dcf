"""Shared test fixtures. Tests that read the real samples (``$RTMPOSE_SAMPLES``, see
:mod:`rtmposelib.data.samples`) skip with the reason when they are absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from rtmposelib.data.samples import samples_dir, samples_missing_reason

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The small real samples (COCO, CrowdPose, MPII, ...), if present."""
    root = samples_dir()
    if root is None:
        pytest.skip(samples_missing_reason())
    return root


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    import torch
    torch.set_num_threads(int(os.environ.get("RTMPOSE_TEST_THREADS", "2")))
    yield
