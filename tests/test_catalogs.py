"""Translations: the template is current, every shipped catalog is complete and well-formed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.language import DASHBOARD_DOMAIN, DASHBOARD_LANGUAGES, prune
from bot.settings import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"
# Every catalog of every domain: "messages" (the bot, 17 languages) and "dashboard" (the web
# dashboard's own texts, DASHBOARD_LANGUAGES).
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%[sd]")


def name(path: Path) -> str:
    return f"{path.parent.parent.name}-{path.stem}"


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def ids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id and isinstance(message.id, str)}


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    output = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract",
            "-F", "babel.cfg", "-k", "__", "-k", "__n:1,2", "-k", "ngettext:1,2",
            "-o", str(output), ".",
        ],
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )  # fmt: skip
    return read(output)


def test_danish_is_shipped() -> None:
    assert LOCALES / "da" / "LC_MESSAGES" / "messages.po" in CATALOGS


def test_the_dashboard_is_translated_into_its_languages_only() -> None:
    dashboards = {path.parent.parent.name for path in CATALOGS if path.stem == DASHBOARD_DOMAIN}
    assert dashboards == set(DASHBOARD_LANGUAGES)


def test_dashboard_template_is_up_to_date(tmp_path: Path) -> None:
    output = tmp_path / "dashboard.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract",
            "-F", "babel-dashboard.cfg", "-k", "__", "-o", str(output), ".",
        ],
        check=True, capture_output=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    prune(output, LOCALES / "messages.pot")
    assert ids(read(output)) == ids(read(LOCALES / "dashboard.pot")), "run `make i18n`"
    assert "Log in" in ids(read(output))  # from a template
    assert "Take it" not in ids(read(output))  # shared with the bot: kept in "messages"


def test_template_is_up_to_date_with_code_and_questionnaires(fresh_template: Catalog) -> None:
    committed = read(LOCALES / "messages.pot")
    assert ids(fresh_template) == ids(committed), "run `make i18n` and translate the changes"
    assert "What is your name? A nickname is fine." in ids(fresh_template)  # from the YAML


@pytest.mark.parametrize("path", CATALOGS, ids=name)
def test_catalog_is_complete(path: Path) -> None:
    catalog = read(path)
    template = read(LOCALES / f"{path.stem}.pot")
    # A plural entry's string is a tuple: every form must be there.
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not all(m.string) if isinstance(m.string, tuple) else not m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert list(catalog.obsolete) == []
    assert ids(catalog) == ids(template)


@pytest.mark.parametrize("path", CATALOGS, ids=name)
def test_placeholders_are_kept(path: Path) -> None:
    def forms(value: object) -> list[str]:
        return list(value) if isinstance(value, tuple | list) else [str(value)]

    wrong = []
    for message in read(path):
        if not message.id:
            continue
        expected = sorted(PLACEHOLDER.findall(forms(message.id)[0]))
        wrong += [
            (message.id, form)
            for form in forms(message.string)
            if sorted(PLACEHOLDER.findall(form)) != expected
        ]
    assert wrong == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("path", CATALOGS, ids=name)
def test_msgfmt_check_passes(path: Path) -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
