"""RTMDet-nano person detector: model, assigner, losses, training and export.

The detector in front of RTMPose in the paper's pipeline (Sec. 3.5, Tables 4 and 12): MMPose's
``rtmdet_nano_320-8xb32_coco-person`` (docs/official-behaviour.md "Model zoo"), 0.99 M parameters, 0.31 GFLOPs at 320 x
320.

- ``rtmdet.py``: :class:`RTMDet` (CSPNeXt + ``pafpn.py`` + ``rtmdet_head.py``), :func:`build_rtmdet_nano`,
  prior points and box decoding helpers;
- ``assigner.py``: dynamic soft-label assignment; ``det_losses.py``: quality focal loss, GIoU, the
  composed :class:`RTMDetLoss`;
- ``det_data.py``: letterboxed COCO-box dataset with the official stage-2 augmentation;
- ``fit.py``: :func:`fit_detector` (AdamW, warm-up + cosine, EMA) and pycocotools box AP;
- ``postprocess.py``: threshold, decode, NMS; :class:`RTMDetEndToEnd` with MMDeploy's (dets, labels);
- ``onnx_export.py``: the ONNX file ``rtmposelib.infer.detector.RTMDetDetector.from_onnx`` reads;
- ``mmdet_checkpoint.py``: official MMDetection checkpoints in and out, :func:`load_detector`;
- ``command.py``: ``rtmpose detector train | eval | export``.
"""
