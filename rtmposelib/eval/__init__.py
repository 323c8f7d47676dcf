"""Evaluation: COCO keypoint AP through pycocotools, PCKh, per-keypoint breakdowns."""
