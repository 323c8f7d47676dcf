"""Shared test fixtures. Tests that read the real samples (``$RTMPOSE_SAMPLES``, see
:mod:`rtmposelib.data.samples`) skip with the reason when they are absent."""
from __future__ import annotations

import os
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning: with two torch threads on a machine whose cores are also
# busy with other work (kernels, loader workers, other jobs), spinning threads take the core from the
# thread they wait for and a training step runs several times slower. Set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402

from rtmposelib.data.samples import samples_dir, samples_missing_reason  # noqa: E402

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
    # RTMPOSE_TEST_THREADS, else OMP_NUM_THREADS (so the kernel-setting matrix's one-thread run is one
    # thread), else 2
    torch.set_num_threads(int(os.environ.get("RTMPOSE_TEST_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))))
    yield
