"""Every shipped language: its catalog, its plural rule, its glossary, its danger word list, and
an honest mark of how the translation was made."""

from __future__ import annotations

import re

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.language import PDI, Catalogs, texts
from bot.settings import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"
# DOMAIN.md's mentees, and the programmes' own languages (issue 5).
REQUIRED = (
    "ar", "ckb", "da", "fa", "fa_AF", "fi", "nb", "pl", "ps", "ru", "so", "sv", "ti", "tr",
    "uk", "ur",
)  # fmt: skip
KEY_TERMS = ("mentor", "mentee", "coordinator", "course", "check-in")
SHIPPED = sorted(path.parent.parent.name for path in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def catalog(language: str) -> Catalog:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_required_language_is_shipped() -> None:
    assert sorted(REQUIRED) == SHIPPED


@pytest.mark.parametrize("language", SHIPPED)
def test_plural_forms_header_is_the_languages_own(language: str) -> None:
    assert catalog(language).plural_forms == get_plural(language).plural_forms


@pytest.mark.parametrize("language", SHIPPED)
def test_header_says_how_the_translation_was_made(language: str) -> None:
    header = catalog(language).header_comment.lower()
    assert "machine-made" in header or "human" in header
    assert "native" in header and "review" in header


@pytest.mark.parametrize("language", SHIPPED)
def test_glossary_names_the_key_terms_and_the_catalog_keeps_to_it(language: str) -> None:
    glossary = yaml.safe_load((LOCALES / language / "glossary.yaml").read_text(encoding="utf-8"))
    terms = glossary["terms"]
    assert set(KEY_TERMS) <= set(terms)
    broken = []
    for english, entry in terms.items():
        assert entry["translation"], english
        stem = str(entry["stem"]).casefold()
        word = re.compile(rf"\b{re.escape(english)}s?\b", re.IGNORECASE)
        for message in catalog(language):
            if not message.id or not isinstance(message.id, str) or not word.search(message.id):
                continue
            strings = message.string if isinstance(message.string, tuple) else [message.string]
            broken += [(english, message.id) for s in strings if stem not in s.casefold()]
    assert broken == []


@pytest.mark.parametrize("language", ("en", *SHIPPED))
def test_danger_word_list_exists(language: str) -> None:
    assert (LOCALES / "danger" / f"{language}.txt").is_file()


@pytest.mark.parametrize(
    ("language", "limit", "word"),
    [
        ("en", 1, "character."), ("en", 100, "characters."),
        ("uk", 1, "символ."), ("uk", 3, "символи."), ("uk", 100, "символів."),
        ("ru", 21, "символ."), ("ru", 22, "символа."), ("ru", 25, "символов."),
        ("pl", 1, "znak."), ("pl", 4, "znaki."), ("pl", 12, "znaków."),
        ("ar", 2, "حرفين."), ("ar", 5, "أحرف."), ("ar", 11, "حرفاً."), ("ar", 100, "حرف."),
    ],
)  # fmt: skip
def test_a_number_in_a_message_takes_the_languages_plural_form(
    language: str, limit: int, word: str
) -> None:
    catalogs = Catalogs.load(LOCALES)
    with catalogs.use(language):
        shown = texts.TOO_LONG.format(limit=limit).replace(PDI, "")
    assert shown.endswith(word)
