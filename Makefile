# PUNT: `make run` serves the app, `make test` runs the suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv migrate demo lint format schema typecheck clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py punt_demo

run: demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "PUNT is starting at http://$(HOST):$(PORT)/"
	@# The task worker (outgoing webhooks) runs beside daphne and stops with it.
	DEBUG=$${DEBUG:-1} $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-1} $(VENV)/bin/daphne -b $(HOST) -p $(PORT) punt.asgi:application

test: venv
	PUNT_TESTING=1 $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# mypy with django-stubs (settings in pyproject.toml): the whole project, strict where other code builds on it.
typecheck: venv
	DEBUG=1 $(VENV)/bin/mypy

schema: venv
	DEBUG=1 $(PY) manage.py spectacular --fail-on-warn --validate --file /dev/null

clean:
	rm -rf $(VENV) staticfiles
