# rtmposelib — two commands do everything: `make reproduce` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SCALE  ?= cpu
PYTEST_ARGS ?=

.PHONY: install test lint reproduce smoke lab bench bench-peer clean-venv

# Create .venv when missing and install the project with its test extras; a second run does nothing
# unless pyproject.toml changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name rtmposelib --display-name "rtmposelib" >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

# ruff (lint), mypy (types of the library) and import-linter (the layers in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check rtmposelib tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The tests under each CPU-kernel setting of PyTorch and oneDNN (thread count, ATen's vector ISA, oneDNN's
# ISA cap); about six times `make test`, so not part of CI. MATRIX_TESTS narrows it, e.g. to the tests that train.
MATRIX_TESTS ?= tests
MATRIX := OMP_NUM_THREADS=1 OMP_NUM_THREADS=2 ATEN_CPU_CAPABILITY=default ATEN_CPU_CAPABILITY=avx2 \
          ATEN_CPU_CAPABILITY=avx512 ONEDNN_MAX_CPU_ISA=AVX2
test-matrix: $(STAMP)
	@failed=""; for setting in $(MATRIX); do \
	  echo "== $$setting"; \
	  env $$setting $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) $(MATRIX_TESTS) || failed="$$failed $$setting"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-matrix failed under:$$failed"; exit 1; fi; echo "test-matrix: all settings passed"

reproduce: $(STAMP)
	$(BIN)/rtmpose suite --scale $(SCALE)

smoke: $(STAMP)
	$(BIN)/rtmpose suite --scale smoke

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Every speed ratio against a reference in one command: ours against the official MMPose 1.3.2 (installed
# in its own environment, never a dependency of the project; each benchmark alternates the two sides in
# one run), and int8 against fp32 ONNX. PEER_PYTHON is the official environment's python, PEER_HARNESS
# the folder holding the official-side scripts bench_data_pipeline.py and bench_train_step.py, PEER_DATA a
# COCO-format folder with test_coco.json and its images (default: the real samples' coco folder).
RTMPOSE_SAMPLES ?= ../shared/data
PEER_DATA ?= $(RTMPOSE_SAMPLES)/coco
bench-peer: $(STAMP)
	@test -n "$(PEER_PYTHON)" -a -n "$(PEER_HARNESS)" || { echo "bench-peer needs PEER_PYTHON=<python of the MMPose environment> PEER_HARNESS=<folder of its bench scripts>"; exit 2; }
	$(BIN)/python benchmarks/bench_data_pipeline.py --data $(PEER_DATA) --peer-python $(PEER_PYTHON) --peer-script $(PEER_HARNESS)/bench_data_pipeline.py
	$(BIN)/python benchmarks/bench_peer_train_step.py --data $(PEER_DATA) --peer-python $(PEER_PYTHON) --peer-script $(PEER_HARNESS)/bench_train_step.py
	$(BIN)/python benchmarks/bench_torch_inference.py --peer-python $(PEER_PYTHON)
	$(BIN)/python benchmarks/bench_int8.py

clean-venv:
	rm -rf $(VENV)
