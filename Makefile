# Developer shortcuts. The README's two commands work without make.
PY ?= .venv/bin/python
LANGS := $(patsubst locales/%/LC_MESSAGES/messages.po,%,$(wildcard locales/*/LC_MESSAGES/messages.po))

.PHONY: install lint format typecheck test i18n i18n-check demo

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test:
	$(PY) -m pytest

# Extract every string (Python and questionnaires) and merge it into each language's catalog.
i18n:
	$(PY) -m babel.messages.frontend extract -F babel.cfg -k __ -k __n:1,2 -k ngettext:1,2 \
	    --no-location --sort-output --project mentorbot --version 0.1 --copyright-holder "mentorbot contributors" -o locales/messages.pot .
	$(PY) -m babel.messages.frontend update -i locales/messages.pot -d locales -D messages \
	    --no-fuzzy-matching --ignore-obsolete

i18n-check:
	for lang in $(LANGS); do msgfmt --check -o /dev/null locales/$$lang/LC_MESSAGES/messages.po || exit 1; done

demo:
	$(PY) -m bot demo
