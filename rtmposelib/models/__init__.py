"""Pose models: CSPNeXt backbone, RTMCC head with GAU, SimCC and heatmap baselines."""
