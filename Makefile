# futsim's commands. Each target sets up what it needs first (a .venv built from
# requirements.lock), so on a fresh machine one command does everything.
#   make demo   — the main job: replay every incident scenario, show the verdicts
#   make test   — lint, import rules and the test suite (what CI runs)
#   make bench  — benchmarks (not part of the tests)
#   make fuzz   — a fuzz campaign against the reference bot: 2,000 generated worlds (~5 min)
#   make fuzz-zoo — the fuzzer must find every bug of the zoo (a pytest campaign; slow, see issue 6)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench fuzz fuzz-zoo clean

FUZZ_EXAMPLES ?= 2000
FUZZ_SEED     ?= 0

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "futsim needs Python 3.11 ('$(PYTHON)' not found); set PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/futsim check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

fuzz: $(STAMP)
	$(BIN)/futsim fuzz --examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED)

fuzz-zoo: $(STAMP)
	$(BIN)/python -m pytest -m campaign tests/fuzz/test_zoo.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
