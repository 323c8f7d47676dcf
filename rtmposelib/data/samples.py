"""Where the real sample data sets are: one lookup for the library, the notebooks and the tests.

The samples are small excerpts of COCO, CrowdPose, MPII, AIC, AP-10K and PoseTrack18, laid out as
``coco/``, ``crowdpose/``, ``mpii/``, ``aic/``, ``ap10k/``, ``posetrack18/``. They are not part of the
repository. The folder is, in order: the environment variable ``RTMPOSE_SAMPLES``; else ``shared/data``
beside the project folder. Nothing is read when this module is imported.
"""
from __future__ import annotations

import os
from pathlib import Path

SAMPLES_ENV = "RTMPOSE_SAMPLES"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FALLBACK_SAMPLES = PROJECT_ROOT.parent / "shared" / "data"


def samples_candidate() -> Path:
    """The folder the samples are expected in: ``$RTMPOSE_SAMPLES`` if set, else the fallback."""
    env = os.environ.get(SAMPLES_ENV, "").strip()
    return Path(env).expanduser() if env else FALLBACK_SAMPLES


def samples_dir() -> Path | None:
    """The real sample folder, or None when it does not exist (see :func:`samples_missing_reason`)."""
    d = samples_candidate()
    return d if d.is_dir() else None


def samples_missing_reason() -> str:
    """One line saying where the samples were looked for and how to point at them."""
    env = os.environ.get(SAMPLES_ENV, "").strip()
    if env:
        return f"real sample data not found: {SAMPLES_ENV}={env} is not a folder"
    return (f"real sample data not found: set {SAMPLES_ENV} to the samples folder "
            f"(coco/, crowdpose/, mpii/, ...); {FALLBACK_SAMPLES} does not exist")
