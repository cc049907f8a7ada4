"""Progress ("4 / 14") never counts backwards and never jumps up: the total counts every
question that may still come, and only shrinks as answers rule questions out."""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from bot.programmes import AnswerValue, Question, Questionnaire, QuestionType
from bot.settings import PROJECT_ROOT

# Skip logic of every kind: a question brought in by an answer (`job` after work: yes, which
# made the old total jump up), one ruled out by it (`search`), a chain (`cv_kind` waits for
# `help`, which waits for `search`), a multi question as the condition and skippable ones
# (a skipped answer matches nothing).
JUMPS = """
id: jumps
version: 1
title: Skip logic
questions:
  - id: work
    type: single
    text: Do you work?
    required: false
    options: [{id: "yes", text: "Yes"}, {id: "no", text: "No"}]
  - id: job
    type: text
    text: What is your job?
    when: {work: ["yes"]}
  - id: hours
    type: single
    text: How many hours?
    when: {work: ["yes"]}
    options: [{id: few, text: Few}, {id: many, text: Many}]
  - id: search
    type: single
    text: Are you looking for work?
    when: {work: {not: ["yes"]}}
    required: false
    options: [{id: "yes", text: "Yes"}, {id: "no", text: "No"}]
  - id: help
    type: multi
    text: What help do you want?
    when: {search: ["yes"]}
    options: [{id: cv, text: CV}, {id: interview, text: Interview}]
  - id: cv_kind
    type: single
    text: Which CV?
    when: {help: [cv], hours: {not: [many]}}
    options: [{id: short, text: Short}, {id: long, text: Long}]
  - id: end
    type: text
    text: Anything else?
    required: false
"""


def _answers(question: Question) -> list[AnswerValue]:
    """Every kind of answer a person can give: each option (each pair for a multi question),
    a typed one, and a skip where allowed."""
    choices: list[AnswerValue]
    if question.type is QuestionType.MULTI:
        ids = question.choice_ids
        choices = [[a] for a in ids] + [[a, b] for a in ids for b in ids if a < b]
    elif question.type in {QuestionType.SINGLE, QuestionType.SCALE}:
        choices = list(question.choice_ids)
    else:
        choices = ["typed"]
    return choices + ([None] if not question.required else [])


def _walks(questionnaire: Questionnaire) -> Iterator[list[tuple[int, int]]]:
    """The progress shown at each question, along every way through the questionnaire."""

    def walk(
        question: Question | None, answers: dict[str, AnswerValue], shown: list[tuple[int, int]]
    ) -> Iterator[list[tuple[int, int]]]:
        if question is None:
            yield shown
            return
        seen = [*shown, questionnaire.progress(question.id, answers)]
        for value in _answers(question):
            given = {**answers, question.id: value}
            yield from walk(questionnaire.next_after(question.id, given), given, seen)

    yield from walk(questionnaire.next_after(None, {}), {}, [])


def _assert_counts_steadily(shown: list[tuple[int, int]]) -> None:
    positions = [position for position, _ in shown]
    totals = [total for _, total in shown]
    assert positions == list(range(1, len(shown) + 1)), shown
    assert totals == sorted(totals, reverse=True), f"the total went up: {shown}"
    assert totals[-1] == len(shown), f"the last question is not the last of the total: {shown}"


def test_the_total_only_shrinks_along_every_way_through_the_skip_logic() -> None:
    questionnaire = Questionnaire.model_validate(yaml.safe_load(JUMPS))
    walks = list(_walks(questionnaire))
    assert len(walks) > 20
    for shown in walks:
        _assert_counts_steadily(shown)
    # Where the answers bring questions in, the total counted them from the start.
    assert questionnaire.progress("work", {}) == (1, 7)


def test_the_total_counts_a_question_until_its_answer_rules_it_out() -> None:
    questionnaire = Questionnaire.model_validate(yaml.safe_load(JUMPS))
    # "yes": job and hours come, search and what hangs on it are out.
    assert questionnaire.progress("job", {"work": "yes"}) == (2, 4)
    assert questionnaire.progress("hours", {"work": "yes", "job": "x"}) == (3, 4)
    assert questionnaire.progress("end", {"work": "yes", "job": "x", "hours": "many"}) == (4, 4)
    # Skipped: a skipped answer matches nothing, so search comes (its "not yes" holds).
    assert questionnaire.progress("search", {"work": None}) == (2, 5)
    assert questionnaire.progress("end", {"work": None, "search": "no"}) == (3, 3)


def test_the_shipped_intake_counts_steadily_on_every_way_through_it() -> None:
    """The mentee intake's own skip logic (`goals: [job]` brings a question in), walked with
    every answer to the questions that others depend on."""
    questionnaire = Questionnaire.model_validate(
        yaml.safe_load(
            (PROJECT_ROOT / "surveys" / "mentee_intake.yaml").read_text(encoding="utf-8")
        )
    )
    sources = {c.question for q in questionnaire.questions for c in q.when}

    def shallow(question: Question) -> list[AnswerValue]:
        # Only the answers to condition questions change the way; one answer does elsewhere.
        every = _answers(question)
        return every if question.id in sources else every[:1]

    def walk(
        question: Question | None, answers: dict[str, AnswerValue], shown: list[tuple[int, int]]
    ) -> Iterator[list[tuple[int, int]]]:
        if question is None:
            yield shown
            return
        seen = [*shown, questionnaire.progress(question.id, answers)]
        for value in shallow(question):
            given = {**answers, question.id: value}
            yield from walk(questionnaire.next_after(question.id, given), given, seen)

    walks = list(walk(questionnaire.next_after(None, {}), {}, []))
    assert len(walks) > 10
    for shown in walks:
        _assert_counts_steadily(shown)
