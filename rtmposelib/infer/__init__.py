"""Top-down inference: detectors, the pose pipeline, OKS pose-NMS, One-Euro smoothing, tracking."""
