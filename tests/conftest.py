"""Shared test fixtures. Tests that read the real samples skip when ../shared is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture
def shared_data() -> Path:
    """The small real samples (COCO, CrowdPose, MPII, ...) that sit beside the project, if present."""
    if not SHARED_DATA.is_dir():
        pytest.skip("real data samples (../shared/data) are not present beside the project")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    import torch
    torch.set_num_threads(int(os.environ.get("RTMPOSE_TEST_THREADS", "2")))
    yield
