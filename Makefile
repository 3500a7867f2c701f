# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv collector browser lint bench clean

demo: $(STAMP)
	$(BIN)/swarmscope demo

test: $(STAMP) collector browser
	$(BIN)/ruff check .
	$(BIN)/pytest

venv: $(STAMP)

# Re-install when the pinned dependencies change. setuptools reports every editable install
# with an "information only" warning (pypa/packaging-problems#558); it is not a problem, so the
# first thing a newcomer sees is not a wall of it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[analyzer,dev]'
	touch $@

# The OpenTelemetry Collector, built from its Go modules (reuses Go's build and module caches).
collector: $(STAMP)
	$(BIN)/swarmscope collector build

# Headless Chromium renders the HTML report in its test; Debian's package, installed once.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the HTML report test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP) collector
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) swarmscope-data collector/build .pytest_cache
