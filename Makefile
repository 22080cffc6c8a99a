# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit bench proof soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[dev]'; } \
		> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

demo: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

lint: install
	$(BIN)/ruff check runner tests bench
	$(BIN)/ruff format --check runner tests bench

# The benchmark scripts run only under `make bench`: type-checking them keeps them in step.
typecheck: install
	$(BIN)/mypy --strict runner
	$(BIN)/mypy bench

unit: install
	$(BIN)/python -m pytest -n 2

test: lint typecheck unit

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The stateful property test of apply under failure, with many random examples.
PROOF_EXAMPLES ?= 50
proof: install
	TASKS_PROOF_EXAMPLES=$(PROOF_EXAMPLES) $(BIN)/python -m pytest -p no:xdist -q \
		tests/e2e/test_proof_stateful.py

# Two applies of one Chats batch at once, at scale and under random faults (bench/soak.py).
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
