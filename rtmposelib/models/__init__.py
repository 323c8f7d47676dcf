"""Pose models: CSPNeXt backbone, RTMCC head with GAU, SimCC and heatmap baselines.

One paper concept per file:
- ``conv_module``: Conv-BN-SiLU and depthwise-separable units (mmcv names);
- ``csp_layer``: CSPNeXt block, CSP layer, channel attention, parallel SPP;
- ``cspnext``: the CSPNeXt-P5 backbone (t/s/m/l/x by deepen/widen factors; depthwise for RTMDet);
- ``gau``: ScaleNorm and the Gated Attention Unit (official relu^2 attention, or the paper's 1/n);
- ``rtmcc_head``: RTMPose's SimCC head (also SimCC* with ``hidden_dims=None``);
- ``heatmap_head`` / ``simcc_head`` / ``resnet``: the Table 1 baselines and the heatmap pre-training head;
- ``pose_model``: ``TopdownPoseModel`` and ``build_model(cfg)`` / ``build_backbone(cfg)``;
- ``mmpose_checkpoint``: load official MMPose checkpoints, export ours under the official key names;
- ``fuse``: the inference-ready copy of a model (conv+BN folded, channels_last, frozen).
"""
