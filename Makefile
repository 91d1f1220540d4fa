# Quick start: `make demo` (set up, then the default worksheet) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup tex bench clean

demo: setup
	$(BIN)/lstm-exam demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

setup: $(VENV)/.installed tex

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[test]"
	@# torch is optional (the cross-check with torch.nn.LSTMCell); 2.13.0 is the CPU build.
	$(BIN)/pip install -q "torch==2.13.0" || echo "WARNING: torch==2.13.0 did not install: the torch cross-check will be skipped (and say so)" >&2
	@# keras 3 (on the torch backend) checks the Keras layout of `lstm-exam export`; optional too.
	$(BIN)/pip install -q keras || echo "WARNING: keras did not install: the Keras export round trip will be skipped (and say so)" >&2
	touch $@

tex:
	@scripts/setup-tex.sh

bench: setup
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_grade.py

clean:
	rm -rf $(VENV) output/*/ .pytest_cache .ruff_cache .hypothesis
