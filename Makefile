# The README's commands. Everything goes through uv and the committed uv.lock.
UV ?= uv
RUN = $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

# What running needs, and no more: no test tools, linters or auditors.
RUN_APP = $(UV) run --frozen --no-dev

.PHONY: check-uv run install install-app test lint format worker beat live messages compilemessages audit

check-uv:
	@command -v $(UV) >/dev/null || { echo "uv is missing: pip install uv (https://docs.astral.sh/uv/)"; exit 1; }

## the locked dependencies with the development tools (tests, lint, audit)
install: check-uv
	$(UV) sync --frozen

## the locked runtime dependencies only (what `make run` and production use)
install-app: check-uv
	$(UV) sync --frozen --no-dev --inexact

## make run: the app at http://127.0.0.1:8000 with demo data (SQLite, mail to var/mail/)
## and the periodic jobs (meetings, reminders, outboxes) in a second process, `manage.py clock`.
## `make run DEMO=0` starts an empty installation instead (create an administrator first).
DEMO ?= 1
run: install-app
	$(RUN_APP) python manage.py migrate --no-input
	@if [ "$(DEMO)" != "0" ] && [ ! -f var/.demo-seeded ]; then $(RUN_APP) python manage.py seed_demo && touch var/.demo-seeded; fi
	@echo ""
	@echo "  Tvärgrupp runs at http://$(HOST):$(PORT)/"
	@if [ "$(DEMO)" != "0" ]; then \
	  echo "  Moderator:        karin.aberg@demo.tvargrupp.se  / tvargrupp-demo"; \
	  echo "  Head of HR:       maria.lindqvist@demo.tvargrupp.se / tvargrupp-demo"; \
	  echo "  Administrator:    admin@demo.tvargrupp.se / tvargrupp-demo"; \
	else \
	  echo "  No demo data. The first administrator: uv run python manage.py create_admin you@example.se"; \
	fi
	@echo "  Sign-in codes and all other e-mail are written to var/mail/"
	@echo "  Periodic jobs run in the background (manage.py clock); they stop with the server."
	@echo ""
	@$(RUN_APP) python manage.py clock --while-pid $$$$ & clock=$$!; live=; \
	  if [ -n "$$REDIS_URL" ]; then \
	    echo "  REDIS_URL is set: screens follow the live stream on port $(LIVE_PORT) (make live)"; \
	    $(RUN_APP) uvicorn tvargrupp.live:application --host $(HOST) --port $(LIVE_PORT) --no-access-log --log-level warning & live=$$!; \
	    export LIVE_URL="$${LIVE_URL:-http://$(HOST):$(LIVE_PORT)/live/}"; \
	  fi; \
	  trap 'kill $$clock $$live 2>/dev/null' EXIT INT TERM; \
	  $(RUN_APP) python manage.py runserver $(HOST):$(PORT)

## make test: the whole suite on PostgreSQL, Redis, a Celery worker, SMTP and Chromium
test: install tests/oidc/node_modules tests/vnu/node_modules
	$(RUN) pytest

# The OpenID Connect provider the sign-in tests run (npm, into a git-ignored folder).
tests/oidc/node_modules: tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund --loglevel error; \
	else echo "npm is missing: the organisation sign-in tests will be skipped"; fi

# Every Django app of the project (a folder with an apps.py), for the audit.
APPS = $(sort $(patsubst %/apps.py,%,$(wildcard */apps.py)))

# The Nu HTML Checker (vnu.jar, needs Java) that tests/test_checkers.py runs over every page.
tests/vnu/node_modules: tests/vnu/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/vnu --no-audit --no-fund --loglevel error; \
	else echo "npm is missing: the HTML checker test will be skipped"; fi

## make audit: known vulnerabilities in the locked dependencies (pip-audit) and bandit over the code
audit: install
	@mkdir -p var
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --output-file var/audit-requirements.txt --quiet
	$(RUN) python scripts/audit.py var/audit-requirements.txt
	$(RUN) bandit --configfile pyproject.toml --quiet --recursive $(APPS) tvargrupp scripts gunicorn.conf.py manage.py

## make lint: ruff, formatting, missing migrations, translation files
lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	DATABASE_URL= $(RUN) python manage.py makemigrations --check --dry-run
	msgfmt --check --statistics -o /dev/null locale/sv/LC_MESSAGES/django.po
	$(RUN) pytest -q -p no:cacheprovider tests/test_i18n.py::test_swedish_catalogue_is_complete

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

## make worker: a Celery worker for production-like setups (needs REDIS_URL)
worker: install-app
	$(RUN_APP) celery -A tvargrupp worker --queues default,mail,pdf --loglevel INFO

## make live: the live stream that projector and participant screens follow (needs REDIS_URL);
## production runs it beside gunicorn, the reverse proxy sending /live/ to it (docs/deployment.md)
LIVE_PORT ?= 8001
live: install-app
	$(RUN_APP) uvicorn tvargrupp.live:application --host $(HOST) --port $(LIVE_PORT) --no-access-log --timeout-graceful-shutdown 5

## make beat: the Celery clock (schedules, invitations, reminders, sweeper); needs REDIS_URL
beat: install-app
	$(RUN_APP) celery -A tvargrupp beat --loglevel INFO --schedule var/celerybeat-schedule

## make messages: extract strings into locale/sv and compile the catalogue
messages: install
	$(RUN) python manage.py makemessages --locale sv --no-obsolete --add-location file --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "bench/*"
	$(RUN) python manage.py compilemessages --locale sv --ignore ".venv/*"

compilemessages: install
	$(RUN) python manage.py compilemessages --locale sv --ignore ".venv/*"
