"""Data: dataset metainfo, COCO-format top-down datasets, augmentation, the SynthPose generator."""
