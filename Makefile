# The two commands of the README: `make demo` and `make test`. Each installs what it
# needs into ./.venv first, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install system-deps browser-deps bench bench-quick bench-quick-host chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# PostgreSQL 15 (Debian) for the throwaway test cluster; installed only when missing.
system-deps:
	@if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		echo "installing PostgreSQL (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

demo: install
	$(VENV)/bin/sysjobs demo

lint: install
	$(VENV)/bin/ruff check sysjobs tests bench

typecheck: install
	$(VENV)/bin/mypy

# TypeScript (npm) for the type-check of the spec's samples against sysjobs/bindings/sys.d.ts.
node_modules/.bin/tsc:
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null)
	npm install --prefix . --no-save --no-package-lock --no-audit --no-fund typescript@5.6.3

# Debian's chromium for the dashboard's browser tests (Playwright drives it; no browser download).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Three test processes (pytest-xdist), each given whole files (`--dist loadfile`): many tests
# wait on worker processes, subprocesses, Chromium and the database, so a third process fills
# the 2-core machine's idle time; whole files keep a module's shared database or host set up
# once instead of once per process (quiet machine, same commit: `-n 2` 7 min 59 s wall,
# `-n 3 --dist loadfile` 6 min 43 s, the same CPU). No test is rerun: a failure is a finding.
# The slowest tests are listed at the end, to see where the suite's time goes. The fault
# scenarios of tests/chaos (SIGKILL, SIGSTOP, server restarts, races with random timing)
# run under `make chaos`; a plain `pytest` still collects them.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: without it every test process
# compiles and assertion-rewrites the ~200 test modules again (collection went from 3.6 s to
# 8.7 s of CPU per process), and every worker process and CLI child compiles sysjobs again.
pytest: install system-deps browser-deps node_modules/.bin/tsc
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest -q -n 3 --dist loadfile --durations=15 --ignore=tests/chaos

test: lint typecheck pytest

# Benchmarks against Procrastinate, pgqueuer and RQ (peers in bench/.venv-peers); not in `test`.
bench: install system-deps
	@command -v redis-server >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
	cd bench && ../$(PY) run.py

# One quick round of no-op jobs/s against the peers (bench/peers_bench.py, BENCH_PEERS_QUICK:
# 1,000 jobs, sysjobs at 2 processes x 32 slots, Procrastinate at concurrency 1 and 32,
# pgqueuer at batch 10 and 250, RQ 200 jobs): a look within two minutes.
bench-quick: install system-deps
	@command -v redis-server >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
	cd bench && BENCH_ONLY=peers BENCH_PEERS_QUICK=1 BENCH_OUT=results-quick.json ../$(PY) run.py

# One quick round of what needs no peer: the bridge, the command line against `node -e`
# (sysjobs run, jobs ls, jobs show, import sysjobs), and record work per second on SQLite and
# a throwaway PostgreSQL (500 records a row); a few minutes.
bench-quick-host: install
	cd bench && BENCH_ONLY=bridge,cli,records BENCH_CLI_N=5 BENCH_RECORDS_N=500 \
		BENCH_OUT=results-quick.json ../$(PY) run.py

# The chaos and hostile-input harness with its heavy variants (and the consecutive-run
# races of the recycling rules, repeated hundreds of times, and the exactly-once soak of four
# worker processes at 8,000 jobs); prints a summary at the end.
chaos: install system-deps
	SYSJOBS_CHAOS_HEAVY=1 $(VENV)/bin/pytest -q tests/chaos tests/hostile tests/properties \
		tests/unit/runtime/test_recycling_rules.py tests/integration/host/test_run_isolation.py \
		tests/acceptance/worker/test_worker_processes.py::test_four_worker_processes_run_every_job_of_a_shared_queue_exactly_once

clean:
	rm -rf $(VENV) .sysjobs .mypy_cache .ruff_cache .pytest_cache
