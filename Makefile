# The two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint format typecheck migrate seed worker bench clean fuzz

$(STAMP): requirements.txt requirements-dev.txt requirements-postal.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# A real routing engine for tests/travel/test_real_engine.py: Valhalla's own programs
# (valhalla_build_tiles, valhalla_service) from the pyvalhalla wheel, which bundles
# their libraries. The wheel is built for CPython >= 3.12 but the programs do not use
# Python, so pip only unpacks it here (37 MB download, 256 MB); tests only, not `make run`.
ENGINE := $(VENV)/valhalla/.installed
$(ENGINE): $(STAMP)
	$(PY) -m pip install --quiet --no-deps --only-binary=:all: --python-version 3.12 \
		--target $(VENV)/valhalla pyvalhalla==3.9.1
	touch $(ENGINE)

## Serve the app with a background worker on embedded defaults (SQLite, filesystem broker).
run: export DEBUG ?= 1
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty --plan 10
	$(PY) scripts/serve.py

## Run the whole test suite (set DATABASE_URL / CELERY_BROKER_URL to use real servers).
## In parallel, each process with its own database and queue: one more process than
## cores, because many tests wait on a browser, a worker or a subprocess (on 2 cores
## the embedded suite took 5:10 with 3 processes). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')
test: $(STAMP) $(ENGINE)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy accounts sites dispatch api config scheduler web audit support core demo delivery webhooks observability stamps

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker --loglevel=INFO

## Benchmarks (about an hour; figures go to docs/BENCHMARKS.md). Peers live in .venv-bench only.
bench:
	bash benchmarks/setup_venv.sh
	.venv-bench/bin/python -m benchmarks.vrptw_compare run --time-limit 30
	taskset -c 1 .venv-bench/bin/python -m benchmarks.isp_scale run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

## Hostile input with a bigger budget than CI: schemathesis over every operation and the
## planner-adapter properties (docs/RELIABILITY.md). Raise the budgets with the variables.
fuzz: export SCHEMATHESIS_MAX_EXAMPLES ?= 25
fuzz: export ADAPTER_PROPERTY_EXAMPLES ?= 200
fuzz: $(STAMP)
	mkdir -p var
	$(PY) -m pytest tests/api/test_schema_conformance.py tests/reliability/test_adapter_properties.py \
	  -q -p no:cacheprovider --hypothesis-show-statistics -rf > var/fuzz.log; status=$$?; \
	  grep -E '^(FAILED|[0-9]+ (passed|failed))' var/fuzz.log; \
	  awk '/passing, .* failing/ {n += $$2} END {print "fuzz: " n " generated cases"}' var/fuzz.log; \
	  exit $$status
