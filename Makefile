# Quick start: `make demo` (set up what the product needs, then the default worksheet) and
# `make test` (set up everything, then lint, types, doctests and every test; then the chain
# tests and the equivalence check again on Python 3.12).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Python 3.12 compensates a float `sum` (3.11 does not): the chains must give the same bits on
# both, so their tests and bench/equivalence.py (the digest recorded on 3.11) run on 3.12 too
VENV312 := .venv312
CHAIN_TESTS := tests/test_generate.py tests/test_solve.py tests/test_solve_properties.py tests/test_bits.py

.PHONY: demo test test-312 setup setup-test setup-312 tex browser bench equivalence clean

demo: setup
	$(BIN)/lstm-exam demo

test: setup-test setup-312
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/typecheck.sh
	$(BIN)/python -m pytest
	$(MAKE) test-312

# the chain tests and the equivalence check on Python 3.12 (pyenv's, or python3.12; none is an error)
test-312: setup-312
	$(VENV312)/bin/python -m pytest $(CHAIN_TESTS)
	$(VENV312)/bin/python bench/equivalence.py

# the product alone: its runtime dependencies and TeX Live
setup: $(VENV)/.product tex

# everything the tests need besides: test tools, torch and Keras for the cross-checks,
# and a headless browser for the practice pages
setup-test: $(VENV)/.test tex browser

# a second venv on Python 3.12: the package and the test tools (scripts/setup-python312.sh)
setup-312: $(VENV312)/.test tex

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

$(VENV312)/.test: pyproject.toml
	scripts/setup-python312.sh $(VENV312)
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
	rm -rf $(VENV) $(VENV312) output/*/ .pytest_cache .ruff_cache .mypy_cache .hypothesis
