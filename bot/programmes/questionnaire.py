"""Questionnaires as data: the schema of `surveys/*.yaml`, its loader and its skip logic."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.file_versions import read_once_per_version

# A voice answer is {"voice": {"file_id", "duration", "file"}} (see bot/language/voice.py).
AnswerValue = str | int | list[str] | dict[str, Any] | None
HARD_TEXT_LIMIT = 4000

# libyaml's safe loader where PyYAML was built with it: the same YAML, read several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def answer_id(value: Any) -> str:
    """An answer id as written in YAML. YAML 1.1 reads a bare yes/no/on/off as a boolean;
    in a questionnaire they are answer ids, so they are turned back into words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


INTAKE = "intake"  # the occasion of a participant's first questionnaire


class QuestionnaireError(Exception):
    """A questionnaire file is broken; the message names file, question and field."""


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    SCALE = "scale"
    TEXT = "text"
    NUMBER = "number"
    INFO = "info"


CHOICE_TYPES = {QuestionType.SINGLE, QuestionType.MULTI, QuestionType.SCALE}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=32)
    text: str = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return answer_id(value)


class Condition(_Strict):
    """The answer to `question` is one of `any_of` (for a multi question: includes one of them),
    or, with `negate`, is none of them. An unanswered or skipped question matches nothing."""

    question: str
    any_of: tuple[str, ...]
    negate: bool = False

    def holds(self, answers: dict[str, AnswerValue]) -> bool:
        value = answers.get(self.question)
        if value is None:
            matched = False
        elif isinstance(value, list):
            matched = any(choice in self.any_of for choice in value)
        else:
            matched = str(value) in self.any_of
        return matched != self.negate


class Severity(StrEnum):
    URGENT = "urgent"  # pushed to coordinators at once
    SOON = "soon"  # in the morning digest
    INFO = "info"  # only in lists


class FlagRule(_Strict):
    """An answer a coordinator must see: `{answers: [no], category: wants_to_stop,
    severity: urgent}`, or for a scale `{at_most: 2, ...}` / `{at_least: 4, ...}`."""

    category: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    severity: Severity
    answers: tuple[str, ...] = ()
    at_most: int | None = None
    at_least: int | None = None

    @field_validator("answers", mode="before")
    @classmethod
    def _answer_ids(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [answer_id(item) for item in value]
        return value

    @model_validator(mode="after")
    def _one_condition(self) -> FlagRule:
        given = [bool(self.answers), self.at_most is not None, self.at_least is not None]
        if sum(given) != 1:
            raise ValueError("a flag rule needs exactly one of answers, at_most or at_least")
        return self

    def raised_by(self, value: AnswerValue) -> bool:
        if value is None:
            return False
        if self.answers:
            chosen = value if isinstance(value, list) else [value]
            return any(str(choice) in self.answers for choice in chosen)
        if not isinstance(value, int):
            return False
        if self.at_most is not None:
            return value <= self.at_most
        return self.at_least is not None and value >= self.at_least


class Question(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    type: QuestionType
    text: str = Field(min_length=1)
    why: str | None = None
    options: tuple[Option, ...] = ()
    when: tuple[Condition, ...] = ()
    required: bool = True
    personal: bool = False
    max_length: int | None = Field(default=None, ge=1, le=HARD_TEXT_LIMIT)
    min: int | None = None
    max: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    flags: tuple[FlagRule, ...] = ()

    @field_validator("when", mode="before")
    @classmethod
    def _parse_when(cls, raw: Any) -> Any:
        """`when: {goal: [job]}` or `when: {situation: {not: [job_match]}}`; keys all must hold."""
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise ValueError("must be a mapping of question id to a list of answer ids")
        conditions = []
        for question, values in raw.items():
            negate = isinstance(values, dict)
            if negate:
                if set(values) != {"not"}:
                    raise ValueError(f"'{question}': only 'not' is allowed inside a condition")
                values = values["not"]
            if isinstance(values, str | int):
                values = [values]
            if not isinstance(values, list) or not values:
                raise ValueError(f"'{question}': expected a non-empty list of answer ids")
            conditions.append(
                {"question": question, "any_of": [answer_id(v) for v in values], "negate": negate}
            )
        return conditions

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type in {QuestionType.SINGLE, QuestionType.MULTI}:
            if len(self.options) < 2:
                raise ValueError(f"a {self.type} question needs at least two options")
            ids = [option.id for option in self.options]
            if len(set(ids)) != len(ids):
                raise ValueError("option ids must be unique")
        elif self.options:
            raise ValueError(f"a {self.type} question has no options")
        if self.type in {QuestionType.SCALE, QuestionType.NUMBER}:
            if self.min is None or self.max is None or self.min >= self.max:
                raise ValueError(f"a {self.type} question needs min < max")
            if self.type is QuestionType.SCALE and self.max - self.min > 10:
                raise ValueError("a scale has at most 11 steps")
        if self.type is QuestionType.INFO and (self.required is False or self.personal):
            raise ValueError("an info message cannot be optional or personal")
        for rule in self.flags:
            unknown = set(rule.answers) - set(self.choice_ids)
            if unknown:
                raise ValueError(f"field 'flags': no answer {sorted(unknown)}")
            if (rule.at_most is not None or rule.at_least is not None) and self.type not in {
                QuestionType.SCALE,
                QuestionType.NUMBER,
            }:
                raise ValueError("field 'flags': at_most/at_least need a scale or number")
        return self

    def raised_flags(self, value: AnswerValue) -> list[FlagRule]:
        return [rule for rule in self.flags if rule.raised_by(value)]

    @property
    def choice_ids(self) -> list[str]:
        if self.type is QuestionType.SCALE:
            assert self.min is not None and self.max is not None
            return [str(step) for step in range(self.min, self.max + 1)]
        return [option.id for option in self.options]

    def option_text(self, option_id: str) -> str:
        """The English (source) label of an answer id."""
        for option in self.options:
            if option.id == option_id:
                return option.text
        return option_id

    def is_shown(self, answers: dict[str, AnswerValue]) -> bool:
        return all(condition.holds(answers) for condition in self.when)


class Questionnaire(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    version: int = Field(ge=1)
    title: str
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Questionnaire:
        seen: dict[str, Question] = {}
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"question '{question.id}' appears twice")
            for condition in question.when:
                source = seen.get(condition.question)
                if source is None:
                    raise ValueError(
                        f"question '{question.id}', field 'when': '{condition.question}' "
                        "is not an earlier question"
                    )
                unknown = set(condition.any_of) - set(source.choice_ids)
                if unknown:
                    raise ValueError(
                        f"question '{question.id}', field 'when': '{condition.question}' "
                        f"has no answer {sorted(unknown)}"
                    )
            seen[question.id] = question
        return self

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def index(self, question_id: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)

    def visible(self, answers: dict[str, AnswerValue]) -> list[Question]:
        return [question for question in self.questions if question.is_shown(answers)]

    def next_after(
        self, question_id: str | None, answers: dict[str, AnswerValue]
    ) -> Question | None:
        """The first question after `question_id` (or the first of all) that applies."""
        start = 0 if question_id is None else self.index(question_id) + 1
        for question in self.questions[start:]:
            if question.is_shown(answers):
                return question
        return None

    def previous_before(self, question_id: str, answers: dict[str, AnswerValue]) -> Question | None:
        for question in reversed(self.questions[: self.index(question_id)]):
            if question.is_shown(answers):
                return question
        return None

    def progress(self, question_id: str, answers: dict[str, AnswerValue]) -> tuple[int, int]:
        """(position, total): the question's place among those asked, and how many may be
        asked in all. A later question whose condition waits for an answer not given yet
        counts until that answer rules it out: going on, the total can only shrink ("4 / 17",
        "5 / 15"), never jump up because an answer brought a question in."""
        current = self.index(question_id)
        possible: set[str] = set()
        position = 0
        for index, question in enumerate(self.questions):
            if index < current:
                counted = question.is_shown(answers)
                position += counted
            else:
                counted = index == current or all(
                    self._may_hold(condition, answers, possible, current)
                    for condition in question.when
                )
            if counted:
                possible.add(question.id)
        return position + 1, len(possible)

    def _may_hold(
        self,
        condition: Condition,
        answers: dict[str, AnswerValue],
        possible: set[str],
        current: int,
    ) -> bool:
        """Whether a condition holds or still may: its question is yet to come (the current
        one or later, still possible) and unanswered, so any answer could follow."""
        source = condition.question
        undecided = source not in answers and source in possible and self.index(source) >= current
        return undecided or condition.holds(answers)


def _locate(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into 'question 'x', field 'y''."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        questions = raw.get("questions") if isinstance(raw, dict) else None
        question_id = f"#{loc[1] + 1}"
        if isinstance(questions, list) and loc[1] < len(questions):
            entry = questions[loc[1]]
            if isinstance(entry, dict) and "id" in entry:
                question_id = str(entry["id"])
        field = ".".join(str(part) for part in loc[2:]) or "(question)"
        return f"question '{question_id}', field '{field}'"
    return f"field '{'.'.join(str(part) for part in loc) or '(file)'}'"


@read_once_per_version
def load_questionnaire(path: Path) -> Questionnaire:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise QuestionnaireError(f"{path.name}: not valid YAML: {error}") from None
    try:
        questionnaire = Questionnaire.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        raise QuestionnaireError(f"{path.name}: {_locate(raw, first['loc'])}: {message}") from None
    if questionnaire.id != path.stem:
        raise QuestionnaireError(
            f"{path.name}: field 'id': '{questionnaire.id}' must match the file name '{path.stem}'"
        )
    return questionnaire


def load_questionnaires(directory: Path) -> dict[str, Questionnaire]:
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise QuestionnaireError(f"{directory}: no questionnaire files (*.yaml)")
    return {questionnaire.id: questionnaire for questionnaire in map(load_questionnaire, paths)}
