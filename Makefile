# Quick start: `make demo` (set up what the product needs, then the default worksheet) and
# `make test` (set up everything, then lint, types, doctests and every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup setup-test tex browser bench equivalence clean

demo: setup
	$(BIN)/lstm-exam demo

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/typecheck.sh
	$(BIN)/python -m pytest

# the product alone: its runtime dependencies and TeX Live
setup: $(VENV)/.product tex

# everything the tests need besides: test tools, torch and Keras for the cross-checks,
# and a headless browser for the practice pages
setup-test: $(VENV)/.test tex browser

$(VENV)/.product: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.product
	$(BIN)/pip install -q -e ".[test]"
	@# torch 2.13.0 is the CPU build; it checks the solver against torch.nn.LSTMCell.
	$(BIN)/pip install -q "torch==2.13.0" || echo "WARNING: torch==2.13.0 did not install: the torch cross-check will be skipped (and say so)" >&2
	@# keras 3 (on the torch backend) checks the Keras layout of `lstm-exam export`.
	$(BIN)/pip install -q keras || echo "WARNING: keras did not install: the Keras export round trip will be skipped (and say so)" >&2
	touch $@

tex:
	@scripts/setup-tex.sh

# Debian's chromium and chromium-driver (selenium comes with the test extras)
browser:
	@scripts/setup-browser.sh

bench: setup
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_grade.py
	$(BIN)/python bench/bench_quiz.py

equivalence: setup
	$(BIN)/python bench/equivalence.py

clean:
	rm -rf $(VENV) output/*/ .pytest_cache .ruff_cache .mypy_cache .hypothesis
