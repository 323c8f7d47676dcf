"""Complexity (params, FLOPs), ONNX export, ONNX Runtime inference and latency benchmarks."""
