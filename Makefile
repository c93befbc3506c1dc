# Accord: `make run` starts the whole system with demo data; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
DEMO_ENV := DEBUG=true ACCORD_DEMO=true PORTAL_BASE_URL=http://127.0.0.1:$(PORT)

.PHONY: install run test lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(DEMO_ENV) $(MANAGE) migrate --noinput
	$(DEMO_ENV) $(MANAGE) compile_translations
	$(DEMO_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	$(DEMO_ENV) $(MANAGE) seed_demo
	@echo ""
	@echo "Accord is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "supervisor, compliance and admin set up an authenticator app (TOTP) at their first login; see README"
	@echo ""
	$(DEMO_ENV) BIND=127.0.0.1:$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: install
	DEBUG=true $(MANAGE) compile_translations --verbosity 0
	$(BIN)/pytest -n $${PYTEST_WORKERS:-auto} $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Needs system gettext (xgettext); only when strings change. Compiling never needs it.
messages: install
	$(MANAGE) makemessages --locale zh_Hans --no-obsolete --ignore ".venv/*" --ignore "staticfiles/*" --ignore "var/*" --ignore "tests/*" --ignore "*.egg-info/*"

clean:
	rm -rf $(VENV) var staticfiles
