"""Keypoint codecs (numpy only): SimCC labels and heatmaps."""
