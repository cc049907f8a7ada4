"""Right-to-left languages read correctly: numbers, the progress "3 / 14", placeholders and Latin
words inside Arabic-script text keep their order once the Unicode bidirectional algorithm has
laid out each line (python-bidi implements UAX #9, isolates included)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from bidi import get_display

from bot.language import Catalogs, LazyText, fill, is_rtl, number, progress
from bot.settings import PROJECT_ROOT

SHIPPED = Catalogs.load(PROJECT_ROOT / "locales")
RTL = [language for language in SHIPPED.languages if is_rtl(language)]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
LATIN = re.compile(r"/?[A-Za-z][A-Za-z0-9_.'-]*(?:[ ][A-Za-z][A-Za-z0-9_.'-]*)*")
# A value for every placeholder the catalogs use: numbers, and Latin text that scrambles easily.
SAMPLES: dict[str, object] = {
    "days": 14, "min": 1, "max": 120, "limit": 1000, "seconds": 12,
    "name": "Sara Jensen (CV)", "title": "Check-in 2", "who": "participant 12",
    "number": "12", "programme": "Career Bridge", "language": "English", "consent": "1.12.2026",
    "start": "1.12.2026", "end": "1.6.2027", "lines": "112: police", "note": "OK, done.",
    "role": "mentor", "status": "matched", "date": "1.12.2026", "code": "bridge",
    "first": "high", "second": "very high",
    "count": 19, "user": "demo-1796686196", "path": "audio/en/mentee_intake/name.ogg",
    "database": "/home/sara/mentorbot-demo.db", "command": "python -m bot demo --with-dashboard",
}  # fmt: skip


def visual(text: str) -> list[str]:
    """Each line as it appears on screen: paragraph direction from its first strong letter."""
    return [get_display(line) for line in text.split("\n")]


def pieces_in_order(text: str, pieces: list[str]) -> bool:
    shown = "\n".join(visual(text))
    return all(piece in shown for piece in pieces)


def write_catalog(directory: Path, language: str, entries: dict[str, str]) -> None:
    catalog = Catalog(locale=language)
    for english, translated in entries.items():
        catalog.add(english, translated)
    folder = directory / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)


@pytest.fixture
def arabic(tmp_path: Path) -> Catalogs:
    write_catalog(
        tmp_path,
        "ar",
        {
            "To start again, send /start.": "للبدء من جديد، أرسل /start.",
            "Your coordinator, {name}, wrote:": "كتب منسقك {name}:",
            "I work in IT.": "أعمل في IT.",
        },
    )
    return Catalogs.load(tmp_path)


def test_without_isolation_the_progress_would_scramble() -> None:
    # The failure these tests guard against: the bidi algorithm reverses the two numbers.
    assert "3 / 14" not in visual("السؤال 3 / 14")[0]


def test_progress_keeps_its_order_in_arabic(arabic: Catalogs) -> None:
    with arabic.use("ar"):
        heading = f"{progress(3, 14)}\n\nما اسمك؟"
    assert pieces_in_order(heading, ["3 / 14"])


def test_commands_and_latin_words_keep_their_order(arabic: Catalogs) -> None:
    with arabic.use("ar"):
        again = str(LazyText("To start again, send /start."))
        job = str(LazyText("I work in IT."))
    assert pieces_in_order(again, ["/start"])
    assert pieces_in_order(job, ["IT"])


def test_placeholder_values_keep_their_order(arabic: Catalogs) -> None:
    with arabic.use("ar"):
        text = fill("كتب منسقك {name}:", name="Sara Jensen (CV)")
    assert pieces_in_order(text, ["Sara Jensen (CV)"])


def test_left_to_right_languages_get_no_marks(arabic: Catalogs) -> None:
    with arabic.use("en"):
        assert progress(3, 14) == "3 / 14"
        assert fill("{name}: {days}", name="Sara", days=2) == "Sara: 2"


def test_there_are_right_to_left_catalogs_to_check() -> None:
    assert {"ar", "fa", "fa_AF", "ps", "ur", "ckb"} <= set(RTL)


@pytest.mark.parametrize("language", RTL)
def test_every_message_of_a_right_to_left_catalog_renders_its_pieces_in_order(
    language: str,
) -> None:
    translations = SHIPPED.translations(language)
    catalog_ids = list(translations._catalog)  # type: ignore[attr-defined]
    scrambled = []
    with SHIPPED.use(language):
        for key in catalog_ids:
            english = key[0] if isinstance(key, tuple) else key
            if not english:
                continue
            names = PLACEHOLDER.findall(english)
            text = fill(_translated(translations, key), **{n: SAMPLES[n] for n in names})
            expected = [_shown(SAMPLES[n]) for n in names]
            expected += LATIN.findall(re.sub(r"\{[^}]*\}", " ", _translated(translations, key)))
            if not pieces_in_order(text, expected):
                scrambled.append((english, visual(text)))
        assert pieces_in_order(f"{progress(3, 14)} السؤال", ["3 / 14"])
    assert scrambled == []


def _translated(translations: object, key: object) -> str:
    return str(translations._catalog[key])  # type: ignore[attr-defined]


def _shown(value: object) -> str:
    return number(value) if isinstance(value, int) else str(value)
