"""Questionnaires and programmes load from YAML; broken files name file, question and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.language import Catalogs
from bot.programmes import (
    ProgrammeError,
    QuestionnaireError,
    QuestionType,
    load_programmes,
    load_questionnaire,
    load_questionnaires,
)
from bot.settings import PROJECT_ROOT

SURVEYS = PROJECT_ROOT / "surveys"


def test_every_shipped_questionnaire_and_programme_loads() -> None:
    questionnaires = load_questionnaires(SURVEYS)
    assert "mentee_intake" in questionnaires
    languages = Catalogs.load(PROJECT_ROOT / "locales").languages
    programmes = load_programmes(PROJECT_ROOT / "programmes", questionnaires, languages)
    assert programmes["bridge"].intake["mentee"] == "mentee_intake"


def test_mentee_intake_covers_the_domain_brief() -> None:
    intake = load_questionnaires(SURVEYS)["mentee_intake"]
    ids = {question.id for question in intake.questions}
    assert {
        "name", "contact", "age_group", "gender", "mentor_gender", "country", "years_here",
        "residence_reason", "home_town", "education", "industry", "situation", "goals",
        "hopes", "language_level", "motivation", "availability", "interests", "heard_from",
    } <= ids  # fmt: skip
    assert intake.question("goals").type is QuestionType.MULTI
    assert intake.question("residence_reason").personal
    assert not intake.question("residence_reason").required
    assert len(intake.question("industry").options) == 20
    assert intake.question("job_kind").when  # only for people who want a job


HELP = "help_lines: [{label: Emergency, number: '112'}]\n"


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


BROKEN = [
    (
        "id: bad\nversion: 1\ntitle: T\nquestions:\n  - id: q1\n    type: single\n    text: Hi\n",
        "bad.yaml: question 'q1', field '(question)': a single question needs at least two options",
    ),
    (
        "id: bad\nversion: 1\ntitle: T\nquestions:\n  - id: q1\n    type: colour\n    text: Hi\n",
        "bad.yaml: question 'q1', field 'type'",
    ),
    (
        "id: bad\nversion: 1\ntitle: T\nquestions:\n  - id: q1\n    type: text\n    text: Hi\n"
        "    when: {q0: [yes]}\n",
        "question 'q1', field 'when': 'q0' is not an earlier question",
    ),
    (
        "id: bad\nversion: 1\ntitle: T\nquestions:\n"
        "  - id: q1\n    type: single\n    text: Hi\n"
        "    options: [{id: a, text: A}, {id: b, text: B}]\n"
        "  - id: q2\n    type: text\n    text: Hi\n    when: {q1: [c]}\n",
        "question 'q2', field 'when': 'q1' has no answer ['c']",
    ),
    (
        "id: bad\nversion: 1\ntitle: T\nquestions:\n  - id: q1\n    type: text\n    text: Hi\n"
        "    colour: red\n",
        "bad.yaml: question 'q1', field 'colour': Extra inputs are not permitted",
    ),
    ("id: bad\nversion: 1\ntitle: T\nquestions: [\n", "bad.yaml: not valid YAML"),
    (
        "id: other\nversion: 1\ntitle: T\nquestions:\n  - {id: q1, type: text, text: Hi}\n",
        "bad.yaml: field 'id': 'other' must match the file name 'bad'",
    ),
]


@pytest.mark.parametrize(("body", "message"), BROKEN)
def test_broken_questionnaire_names_file_question_and_field(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(QuestionnaireError) as error:
        load_questionnaire(write(tmp_path, "bad.yaml", body))
    assert message in str(error.value)
    assert "\n" not in str(error.value).split(": ", 1)[0]


def test_programme_with_unknown_questionnaire_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", "code: p\nname: P\nlanguages: [en]\nintake: {mentee: nope}\n" + HELP)
    with pytest.raises(ProgrammeError, match=r"p\.yaml: field 'intake.mentee': no questionnaire"):
        load_programmes(tmp_path, load_questionnaires(SURVEYS), ["en"])


def test_programme_with_language_without_catalog_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.yaml",
        "code: p\nname: P\nlanguages: [en, xx]\nintake: {mentee: mentee_intake}\n" + HELP,
    )
    with pytest.raises(ProgrammeError, match=r"field 'languages': no catalog for \['xx'\]"):
        load_programmes(tmp_path, load_questionnaires(SURVEYS), ["en"])


def test_programme_code_must_be_a_valid_deep_link(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.yaml",
        "code: no spaces\nname: P\nlanguages: [en]\nintake: {mentee: x}\n" + HELP,
    )
    with pytest.raises(ProgrammeError, match=r"p\.yaml: field 'code'"):
        load_programmes(tmp_path, {}, ["en"])
