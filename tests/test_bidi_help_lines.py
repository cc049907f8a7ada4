"""The help lines shown after words that suggest danger keep their numbers readable in every
right-to-left language: "70 201 201" must not turn into "201 201 70" on the screen.

Each message goes through the real engine (the shipped programme and catalogs) and then
through the Unicode bidirectional algorithm (python-bidi implements UAX #9, isolates included)
line by line, as a phone lays out each line of a message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bidi import get_display

from bot.core import Core
from bot.language import LRI, PDI, language_name
from bot.messages import AskForPerson
from tests.conversation import EngineChat

RIGHT_TO_LEFT = ["ar", "fa", "fa_AF", "ps", "ur", "ckb"]
OPENERS = (LRI, "\u2067", "\u2068")  # LRI, RLI, FSI: each one closes with a PDI
DANGER_EXAMPLES = Path(__file__).parent / "data" / "danger"


def on_screen(text: str) -> list[str]:
    """Each line as it appears on screen (paragraph direction from its first strong letter)."""
    return [get_display(line) for line in text.split("\n")]


def in_the_persons_words(language: str) -> str:
    """Words that suggest danger, as a speaker of the language types them."""
    examples = yaml.safe_load((DANGER_EXAMPLES / f"{language}.yaml").read_text(encoding="utf-8"))
    return str(examples["danger"]["suicide"][0])


async def help_now(core: Core, language: str, words: str | None = None) -> str:
    chat = EngineChat(core, "7")
    await chat.start()
    await chat.tap(language_name(language))
    await chat.tap(chat.prompt.keyboard[0][0].label)  # consent
    await chat.send(AskForPerson())
    await chat.say(words or in_the_persons_words(language))
    return chat.texts[0]


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
async def test_arabic_help_line_number_keeps_its_written_order(core: Core, language: str) -> None:
    text = await help_now(core, language)
    shown = "\n".join(on_screen(text))
    numbers = [line.number for line in core.programmes["bridge"].help_lines]
    assert "70 201 201" in numbers
    for written in numbers:
        assert written in shown, (written, shown)
    for name in ("Lev Uden Vold", "Livslinien"):
        assert name in shown, (name, shown)


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
async def test_no_isolate_spans_two_lines_of_the_help_text(core: Core, language: str) -> None:
    # A line break ends every isolate (UAX #9 P1), so one left open would swallow the rest
    # of its line and a stray PDI would close nothing on the next.
    text = await help_now(core, language)
    for line in text.split("\n"):
        assert sum(line.count(mark) for mark in OPENERS) == line.count(PDI), repr(line)
    number_line = next(line for line in text.split("\n") if "70 201 201" in line)
    assert f"{LRI}70 201 201{PDI}" in number_line


async def test_help_lines_in_a_left_to_right_language_carry_no_marks(core: Core) -> None:
    text = await help_now(core, "da", "han slår mig")
    assert "Vold i hjemmet (Lev Uden Vold): 1888" in text
    assert not any(mark in text for mark in (*OPENERS, PDI))
