# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv collector browser claude-flow lint bench soak clean

demo: $(STAMP)
	$(BIN)/swarmscope demo

# Most tests wait on real processes rather than compute, so test files run on several workers
# (whole files per worker: their module fixtures are shared); TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= 3
test: $(STAMP) collector browser claude-flow
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

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

# Claude-Flow from npm at one pinned version, for tests/claude_flow, in a cache outside the repo.
# Quick when already there; when the registry cannot be reached the tests skip and say why.
CLAUDE_FLOW_VERSION ?= 3.43.0
CLAUDE_FLOW_PREFIX  ?= $(HOME)/.cache/swarmscope/npm
claude-flow:
	@test -x $(CLAUDE_FLOW_PREFIX)/node_modules/.bin/claude-flow \
	  && grep -q '"version": "$(CLAUDE_FLOW_VERSION)"' \
	       $(CLAUDE_FLOW_PREFIX)/node_modules/claude-flow/package.json \
	  || { mkdir -p $(CLAUDE_FLOW_PREFIX) && \
	       npm install --prefix $(CLAUDE_FLOW_PREFIX) --no-audit --no-fund --loglevel=error \
	         claude-flow@$(CLAUDE_FLOW_VERSION) \
	       || echo "claude-flow: npm install failed (registry unreachable?); its tests will skip"; }

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP) collector
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The full soak (not in CI, not part of test): 20 processes, one leaking, for 10 minutes under
# swarmscope run at the default interval and alert lines, then the windowed report; prints its
# figures (docs/performance.md, "Soak").
SOAK_MINUTES ?= 10
soak: $(STAMP)
	$(BIN)/python tests/soak/full_soak.py --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) swarmscope-data collector/build .pytest_cache
