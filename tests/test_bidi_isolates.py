"""Isolates in right-to-left text: one per line, one per phone number, code or Latin name.

The bidi algorithm lays out each line on its own (UAX #9, P1), so an isolate that opens on one
line and closes on another protects nothing; and the spaces of "70 201 201" side with the
right-to-left text around them unless the number has an isolate of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from bidi import get_display

from bot.conversation.render import render_summary
from bot.language import LRI, PDI, Catalogs, LazyText, fill, isolate
from bot.programmes import AnswerValue, load_questionnaires
from bot.settings import PROJECT_ROOT
from storage.models import AnswerStatus

FSI = "\u2068"
CALL = "Call 70 201 201 or +45 33 12 34 56, from 8:00 to 20:00."
CALL_AR = "اتصل على 70 201 201 أو +45 33 12 34 56، من 8:00 إلى 20:00."
LINES = "Lines:\n112 police\n70 201 201 Livslinien"
LINES_AR = "الخطوط:\n112 الشرطة\n70 201 201 Livslinien"


def on_screen(text: str) -> str:
    return "\n".join(get_display(line) for line in text.split("\n"))


@pytest.fixture
def arabic(tmp_path: Path) -> Catalogs:
    catalog = Catalog(locale="ar")
    catalog.add(CALL, CALL_AR)
    catalog.add(LINES, LINES_AR)
    folder = tmp_path / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    return Catalogs.load(tmp_path)


def test_without_an_isolate_the_phone_number_turns_around() -> None:
    # The failure these tests guard against.
    assert "70 201 201" not in get_display("اتصل على 70 201 201")


def test_a_value_of_several_lines_gets_an_isolate_per_line(arabic: Catalogs) -> None:
    with arabic.use("ar"):
        assert isolate("الطوارئ: 112\n\nLivslinien: 70 201 201") == (
            f"{FSI}الطوارئ: 112{PDI}\n\n{FSI}Livslinien: 70 201 201{PDI}"
        )
        assert isolate("3 / 14\r\n4 / 14", numeric=True) == f"{LRI}3 / 14{PDI}\r\n{LRI}4 / 14{PDI}"
        assert fill("{lines}", lines="a\nb") == f"{FSI}a{PDI}\n{FSI}b{PDI}"


def test_phone_numbers_in_an_arabic_translation_keep_their_written_order(
    arabic: Catalogs,
) -> None:
    with arabic.use("ar"):
        text = str(LazyText(CALL))
    shown = on_screen(text)
    for number in ("70 201 201", "+45 33 12 34 56", "8:00", "20:00"):
        assert number in shown, (number, shown)
    assert f"{LRI}70 201 201{PDI}" in text


def test_each_number_and_name_has_its_own_isolate_on_its_own_line(arabic: Catalogs) -> None:
    with arabic.use("ar"):
        text = str(LazyText(LINES))
    assert text == f"الخطوط:\n112 الشرطة\n{LRI}70 201 201{PDI} {LRI}Livslinien{PDI}"
    assert "70 201 201" in on_screen(text)


def test_left_to_right_text_gets_no_marks(arabic: Catalogs) -> None:
    with arabic.use("en"):
        assert isolate("a\nb") == "a\nb"
        assert str(LazyText(CALL)) == CALL


def test_typed_answers_in_an_arabic_summary_keep_their_order() -> None:
    # The summary at the end of a survey: a name or a phone number typed in Latin script.
    shipped = Catalogs.load(PROJECT_ROOT / "locales")
    intake = load_questionnaires(PROJECT_ROOT / "surveys")["mentee_intake"]
    values: dict[str, AnswerValue] = {
        "name": "Amina Lev",
        "contact": "+45 33 12 34 56",
        "gender": None,
    }
    statuses = {
        "name": AnswerStatus.ANSWERED,
        "contact": AnswerStatus.ANSWERED,
        "gender": AnswerStatus.DECLINED,
    }
    with shipped.use("ar"):
        (summary,) = render_summary(intake, values, statuses)
        heading, declined = (
            shipped.gettext("ar", "Your answers:"),
            shipped.gettext("ar", "Prefer not to say"),
        )
    lines = summary.text.split("\n")
    assert lines[0] == heading
    answers = lines[3::3]
    assert answers == [f"✓ {FSI}Amina Lev{PDI}", f"✓ {FSI}+45 33 12 34 56{PDI}", f"✓ {declined}"]
    shown = on_screen(summary.text)
    assert "Amina Lev" in shown and "+45 33 12 34 56" in shown
