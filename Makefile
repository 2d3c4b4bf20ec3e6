# The two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint format typecheck migrate seed worker bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Serve the app with a background worker on embedded defaults (SQLite, filesystem broker).
run: export DEBUG ?= 1
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty --plan 10
	$(PY) scripts/serve.py

## Run the whole test suite (set DATABASE_URL / CELERY_BROKER_URL to use real servers).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy accounts sites dispatch api config scheduler

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
