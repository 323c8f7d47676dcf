"""Losses: KL divergence over SimCC distributions, keypoint heatmap MSE."""
