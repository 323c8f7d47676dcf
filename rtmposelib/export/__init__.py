"""Complexity (params, FLOPs), ONNX export, int8 quantisation, ONNX Runtime inference and latency
benchmarks."""
