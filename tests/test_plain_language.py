"""Plain language, measured: short sentences and a Flesch reading ease of 70 or more for the
English source; LIX for the Scandinavian catalogs; button labels that fit a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import coordination
from bot.language import Catalogs, LazyText, SourceText, counts, participant_texts, texts, total
from bot.programmes import load_programmes, load_questionnaires
from bot.settings import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"
CATALOGS = Catalogs.load(LOCALES)
SCANDINAVIAN = [language for language in ("da", "nb", "sv") if CATALOGS.has(language)]
TRANSLATED = [language for language in CATALOGS.languages if language != "en"]


@pytest.fixture(scope="module")
def sources() -> list[SourceText]:
    questionnaires = load_questionnaires(PROJECT_ROOT / "surveys")
    programmes = load_programmes(PROJECT_ROOT / "programmes", questionnaires, CATALOGS.languages)
    return participant_texts(questionnaires, programmes)


def test_the_texts_include_messages_questions_options_and_help_lines(
    sources: list[SourceText],
) -> None:
    found = {source.text for source in sources}
    assert str(texts.CONSENT.message) in found
    assert "What is your name? A nickname is fine." in found
    assert "25 to 34" in found  # an option
    assert "Emergency (police, ambulance)" in found  # a help line
    assert not any(label.message in found for label in coordination.CATEGORY_LABELS.values())


def test_no_english_sentence_has_more_than_15_words(sources: list[SourceText]) -> None:
    long = [(counts(s.text).longest_sentence, s.text) for s in sources]
    assert [item for item in long if item[0] > 15] == []


def test_every_english_question_has_a_flesch_reading_ease_of_70_or_more(
    sources: list[SourceText],
) -> None:
    hard = [(round(counts(s.text).flesch), s.text) for s in sources if s.question]
    assert len(hard) > 50
    assert [item for item in hard if item[0] < 70] == []


def test_flesch_and_lix_agree_with_worked_examples() -> None:
    # Flesch's own example sentence class: one-syllable words in short sentences score high.
    assert counts("The cat sat on the mat.").flesch > 100
    assert (
        counts("Comprehensive organisational restructuring necessitates deliberation.").flesch < 0
    )
    # The example, by hand: 6 words in 1 sentence, 3 of them longer than six letters
    # (Hvilken, branche, erfaring): 6 + 100 * 3/6 = 56. The plain version: 5 + 100 * 1/5 = 25.
    assert counts("Hvilken branche har du erfaring fra?", "da").lix == 56.0
    assert counts("Hvad har du arbejdet med?", "da").lix == 25.0


@pytest.mark.parametrize("language", SCANDINAVIAN)
def test_scandinavian_catalog_has_lix_30_or_less_and_no_question_over_45(
    language: str, sources: list[SourceText]
) -> None:
    with CATALOGS.use(language):
        translated = [(CATALOGS.gettext(language, s.text), s.question) for s in sources]
    assert total((text for text, _ in translated), language).lix <= 30
    hard = [
        (round(counts(text, language).lix), text)
        for text, question in translated
        if question and counts(text, language).lix > 45
    ]
    assert hard == []


def _labels(language: str, messages: tuple[LazyText, ...]) -> list[str]:
    return [CATALOGS.gettext(language, message.message) for message in messages]


@pytest.mark.parametrize("language", CATALOGS.languages)
def test_button_labels_fit_a_phone(language: str) -> None:
    questionnaires = load_questionnaires(PROJECT_ROOT / "surveys")
    options = [
        CATALOGS.gettext(language, option.text)
        for questionnaire in questionnaires.values()
        for question in questionnaire.questions
        for option in question.options
    ]
    single = _labels(language, texts.BUTTONS) + options
    shared = _labels(language, texts.SHARED_ROW_BUTTONS) + _labels(
        language,
        (coordination.TAKE, coordination.RESOLVE, coordination.OPEN, coordination.REPLY),
    )
    assert [label for label in single if len(label) > texts.MAX_BUTTON_LABEL] == []
    assert [label for label in shared if len(label) > texts.MAX_SHARED_ROW_LABEL] == []


def test_the_readability_command_prints_a_row_per_language(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    assert main(["readability"]) == 0
    out = capsys.readouterr().out
    for language in CATALOGS.languages:
        assert f"| {language} " in out
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert out.strip() in readme, (
        "the README's table is out of date: paste `python -m bot readability`"
    )
