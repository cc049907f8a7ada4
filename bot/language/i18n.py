"""Translations: gettext catalogs in `locales/`, the active language in a context variable.

Catalogs are read from the `.po` files with Babel when the application starts, so a fresh
checkout needs no compile step and translators only ever touch `.po` files.
`_()` translates now (use it when a reply is built); `__()` translates when the text is
shown (use it in module constants).
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.file_versions import read_once_per_version

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
DASHBOARD_DOMAIN = "dashboard"
# The languages the dashboard's own pages are translated into (besides English).
DASHBOARD_LANGUAGES = ("da", "nb", "sv", "fi")

_SOURCE = gettext.NullTranslations()
_active: ContextVar[gettext.NullTranslations] = ContextVar(
    "mentorbot_translations",
    default=_SOURCE,
)
_active_language: ContextVar[str] = ContextVar("mentorbot_language", default=SOURCE_LANGUAGE)


def _(message: str) -> str:
    return _active.get().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active.get().ngettext(singular, plural, n)


def current_language() -> str:
    return _active_language.get()


@dataclass(frozen=True)
class LazyText:
    """A message id translated each time it is shown, in the language active then."""

    message: str

    def __str__(self) -> str:
        return _(self.message)

    def format(self, **values: object) -> str:
        return fill(str(self), **values)


def __(message: str) -> LazyText:
    return LazyText(message)


@dataclass(frozen=True)
class LazyPlural:
    """A message with a number in it: the language's plural rule (the catalog's Plural-Forms)
    picks the form when it is shown."""

    message: str
    plural: str
    count: str  # the placeholder that holds the number

    def format(self, **values: object) -> str:
        number_value = values[self.count]
        assert isinstance(number_value, int)
        return fill(ngettext(self.message, self.plural, number_value), **values)


def __n(singular: str, plural: str, count: str) -> LazyPlural:
    return LazyPlural(singular, plural, count)


# Where CLDR's own name is not what speakers call their language: Dari is CLDR's "Persian
# (Afghanistan)", but Afghans call it دری.
OWN_NAMES = {"fa_AF": "دری"}

# Unicode isolates (UAX #9): a piece inside them keeps its own direction and does not mix with
# the text around it. LRI for numbers like "3 / 14", FSI for a value of any script.
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"


def language_name(code: str) -> str:
    """The language's own name in its own script, e.g. 'dansk' -> 'Dansk', 'ar' -> 'العربية'."""
    if code in OWN_NAMES:
        return OWN_NAMES[code]
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


def language_for_reader(code: str) -> str:
    """The language's own name, and its name in the active language when that differs:
    "العربية (Arabic)" for an English reader, "Dansk" for a Danish one."""
    own = language_name(code)
    try:
        theirs = Locale.parse(code).get_display_name(current_language()) or ""
    except (UnknownLocaleError, ValueError):
        return own
    if not theirs or theirs.casefold() == own.casefold():
        return own
    return f"{own} ({theirs})"


def is_rtl(language: str) -> bool:
    try:
        return Locale.parse(language).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def number(value: int) -> str:
    """A whole number as the active language writes it (Babel, CLDR)."""
    return format_decimal(value, locale=current_language())


# The bidi algorithm lays out each line on its own (UAX #9, P1): an isolate opened on one line
# runs to that line's end, its PDI on a later line closes nothing, and the lines in between are
# laid out as if there were no isolate at all.
_LINE_BREAK = re.compile(r"(\r\n|[\n\r\x1c-\x1e\x85\u2029])")


def _per_line(text: str, wrap: Callable[[str], str]) -> str:
    """`wrap` applied to each line of `text` on its own; the line breaks stay as they are."""
    parts = _LINE_BREAK.split(text)
    return "".join(
        part if index % 2 or not part else wrap(part) for index, part in enumerate(parts)
    )


def isolate(piece: str, *, numeric: bool = False) -> str:
    """Keep a piece (a number, a name, a title) in order inside right-to-left text; in
    left-to-right languages nothing needs doing and nothing is added. A piece of several lines
    gets one isolate per line (see `_LINE_BREAK`)."""
    if not is_rtl(current_language()):
        return piece
    mark = LRI if numeric else FSI
    return _per_line(piece, lambda line: f"{mark}{line}{PDI}")


def progress(position: int, total: int) -> str:
    """ "3 / 14", which right-to-left text would otherwise show as "14 / 3"."""
    return isolate(f"{number(position)} / {number(total)}", numeric=True)


# What keeps its left-to-right order inside right-to-left text, each run in an isolate of its
# own: a run of Latin script (a command "/start", a word "CV", a name "Lev Uden Vold"), and a
# number in groups ("70 201 201", "+45 33 12", "3 / 14"), whose spaces the bidi algorithm would
# otherwise give to the right-to-left text around it, turning the groups around. A single
# number needs nothing. Runs join with a plain space only, so no run reaches past a line.
# Placeholders ({name}) are left alone: `fill` isolates their values.
_LATIN_RUN = r"(?<![{\w])/?[A-Za-z][A-Za-z0-9_.'-]*(?:[ ][A-Za-z][A-Za-z0-9_.'-]*)*"
_NUMBER_RUN = r"(?<![\w+])\+?[0-9]+(?:(?:[ ][-./:]?[ ]?|[-./:][ ])[0-9]+)+(?!\w)"
_LEFT_TO_RIGHT_RUN = re.compile(f"{_LATIN_RUN}|{_NUMBER_RUN}")
_PLACEHOLDER = re.compile(r"(\{[^}]*\})")


def isolate_latin(text: str) -> str:
    """Wrap every Latin run and grouped number of a right-to-left translation in an isolate of
    its own, so "/start" does not show as "start/" and "IT job" keeps its order. Translators
    never type the marks."""
    parts = _PLACEHOLDER.split(text)
    return "".join(
        part if index % 2 else _LEFT_TO_RIGHT_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", part)
        for index, part in enumerate(parts)
    )


# CLDR has no list patterns of its own for Sorani yet: Babel gives the root's Latin comma,
# which does not belong between words in Arabic script. Sorani writes the Arabic comma.
_LIST_SEPARATOR = {"ckb": "\u060c "}


def listing(items: Iterable[str]) -> str:
    """Items joined as the active language writes a list (Babel, CLDR): "A, B, and C", Danish
    "A, B og C", Arabic "A وB وC". The items are not isolated: a line made only of isolates
    would take its direction from none of them (UAX #9, P2) and read left to right; the Latin
    words and numbers inside a translated item have their own isolates already."""
    language = current_language()
    pieces = list(items)
    if language in _LIST_SEPARATOR:
        return _LIST_SEPARATOR[language].join(pieces)
    try:
        return format_list(pieces, locale=language)
    except (UnknownLocaleError, ValueError):
        return format_list(pieces, locale=SOURCE_LANGUAGE)


def fill(template: str, **values: object) -> str:
    """`template.format(**values)` with numbers written for the active language and every value
    isolated in right-to-left text."""
    shown = {
        name: isolate(number(value), numeric=True)
        if isinstance(value, int) and not isinstance(value, bool)
        else isolate(str(value))
        for name, value in values.items()
    }
    return template.format(**shown)


def _compiled(po_path: Path, language: str) -> gettext.GNUTranslations:
    """A .po file read with Babel and compiled in memory (no .mo files in the repository)."""
    # A new object each time: Catalogs chains fallbacks onto it.
    return gettext.GNUTranslations(io.BytesIO(_compile(po_path, language)))


@read_once_per_version
def _compile(po_path: Path, language: str) -> bytes:
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    if is_rtl(language):
        for message in catalog:
            if message.id and message.string:
                strings = message.string
                message.string = (
                    isolate_latin(strings)
                    if isinstance(strings, str)
                    else tuple(isolate_latin(form) for form in strings)
                )
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


class Catalogs:
    """All shipped translations, loaded once at start-up."""

    def __init__(self, translations: dict[str, gettext.NullTranslations]) -> None:
        self._translations = translations

    @classmethod
    def load(cls, locales_dir: Path) -> Catalogs:
        translations: dict[str, gettext.NullTranslations] = {
            SOURCE_LANGUAGE: gettext.NullTranslations()
        }
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po_path.parent.parent.name
            translations[language] = _compiled(po_path, language)
            # The dashboard's own texts: looked up when "messages" does not have them.
            dashboard = po_path.with_name(f"{DASHBOARD_DOMAIN}.po")
            if dashboard.is_file():
                translations[language].add_fallback(_compiled(dashboard, language))
        return cls(translations)

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def has(self, language: str) -> bool:
        return language in self._translations

    def translations(self, language: str) -> gettext.NullTranslations:
        return self._translations.get(language) or self._translations[SOURCE_LANGUAGE]

    def gettext(self, language: str, message: str) -> str:
        return self.translations(language).gettext(message)

    @contextmanager
    def use(self, language: str) -> Iterator[None]:
        """Make `_()` translate into `language` inside the block."""
        translations_token = _active.set(self.translations(language))
        language_token = _active_language.set(language)
        try:
            yield
        finally:
            _active.reset(translations_token)
            _active_language.reset(language_token)
