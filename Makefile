# Developer shortcuts. The README's two commands work without make.
PY ?= .venv/bin/python

.PHONY: install lint format typecheck test i18n i18n-check demo lock lock-upgrade audit lowest test-lowest

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(dir $(PY))lint-imports

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test:
	$(PY) -m pytest

# Extract every string (Python and questionnaires) and merge it into each language's catalog;
# then the dashboard's own strings (domain "dashboard", for DASHBOARD_LANGS).
DASHBOARD_LANGS := da nb sv fi
i18n:
	$(PY) -m babel.messages.frontend extract -F babel.cfg -k __ -k __n:1,2 -k ngettext:1,2 \
	    --no-location --sort-output --project mentorbot --version 0.1 --copyright-holder "mentorbot contributors" -o locales/messages.pot .
	$(PY) -m babel.messages.frontend update -i locales/messages.pot -d locales -D messages \
	    --no-fuzzy-matching --ignore-obsolete
	$(PY) -m babel.messages.frontend extract -F babel-dashboard.cfg -k __ \
	    --no-location --sort-output --project mentorbot --version 0.1 --copyright-holder "mentorbot contributors" -o locales/dashboard.pot .
	$(PY) -m bot.language.catalog_prune locales/dashboard.pot locales/messages.pot
	for lang in $(DASHBOARD_LANGS); do \
	    if [ -f locales/$$lang/LC_MESSAGES/dashboard.po ]; then \
	        $(PY) -m babel.messages.frontend update -i locales/dashboard.pot -d locales -D dashboard -l $$lang --no-fuzzy-matching --ignore-obsolete; \
	    else \
	        $(PY) -m babel.messages.frontend init -i locales/dashboard.pot -d locales -D dashboard -l $$lang; \
	    fi; \
	done

i18n-check:
	for po in locales/*/LC_MESSAGES/*.po; do msgfmt --check -o /dev/null $$po || exit 1; done

demo:
	$(PY) -m bot demo

# The lock file the container image installs (requirements.lock): every package the application
# needs, pinned, with the hashes of its files, for Python 3.11 on any platform. `lock` keeps the
# pins that still fit pyproject.toml and adds or drops what changed there; `lock-upgrade` moves
# every pin to the newest release allowed. Both need PyPI. docs/OPERATIONS.md, "Dependencies and
# audits", says when to run which.
UV = $(dir $(PY))uv
LOCK_OPTIONS = --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" -o requirements.lock pyproject.toml
lock:
	$(UV) pip compile $(LOCK_OPTIONS)

lock-upgrade:
	$(UV) pip compile --upgrade $(LOCK_OPTIONS)

# Known vulnerabilities in the locked versions (PyPI's advisory data, through pip-audit).
PIP_AUDIT = pip-audit==2.10.1
audit:
	$(UV) tool run --from $(PIP_AUDIT) pip-audit --strict --require-hashes --disable-pip -r requirements.lock

# A venv with each direct dependency at the lowest version pyproject.toml allows (the rest as
# new as they fit), to prove those minimums: `make test-lowest` runs the suite in it.
LOWEST ?= .venv-lowest
lowest:
	$(UV) venv --quiet --allow-existing --python $(PY) $(LOWEST)
	$(UV) pip compile --quiet --resolution lowest-direct --python-version 3.11 --extra dev \
	    -o $(LOWEST)/requirements.txt pyproject.toml
	VIRTUAL_ENV=$(LOWEST) $(UV) pip sync --quiet $(LOWEST)/requirements.txt
	VIRTUAL_ENV=$(LOWEST) $(UV) pip install --quiet --no-deps -e .

test-lowest: lowest
	$(LOWEST)/bin/python -m pytest
