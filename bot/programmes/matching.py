"""How a programme suggests mentors for a waiting mentee (`matching:` in programmes/*.yaml): how
many mentees a mentor may have at once, and the criteria that compare a mentee's intake answers
with a mentor's, each with a weight, some of them hard rules. Data, not code: the ranking itself
is bot/matching/."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.programmes.questionnaire import Question, Questionnaire, QuestionType

MAX_CAPACITY = 10


class CriterionKind(StrEnum):
    # The two chose an option in common (both questions use the same option ids).
    SAME_CHOICE = "same_choice"
    # One side's answer is a wish about the other ("a woman"); it is met by the other's answer
    # with the same option id, and by any answer when the wish is one of `any`.
    WISH = "wish"
    # A language in common: the languages typed in the answers, and the one each uses with the
    # bot.
    LANGUAGES = "languages"
    # The typed towns or areas name the same place, or places of the same one of `areas`.
    PLACE = "place"
    # Typed words in common (hobbies), common words of the languages left out.
    WORDS = "words"
    # The mentee chose one of `mentee_answers` and the mentor one of `mentor_answers`.
    BOTH_CHOSE = "both_chose"


CHOICE_KINDS = {CriterionKind.SAME_CHOICE, CriterionKind.WISH, CriterionKind.BOTH_CHOSE}
TEXT_KINDS = {CriterionKind.LANGUAGES, CriterionKind.PLACE, CriterionKind.WORDS}
CHOICE_TYPES = {QuestionType.SINGLE, QuestionType.MULTI}
Role = Literal["mentee", "mentor"]


class Criterion(BaseModel):
    """One thing a good pair has in common. Met, it adds `weight` to the mentor's score and
    shows as a reason, "`label`: what they share" ("Same field: Health and medicine"). A `hard`
    one that is not met leaves the mentor out of the suggestions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    kind: CriterionKind
    label: str = Field(min_length=1, max_length=60)  # English; translated like questions
    mentee: str | None = None  # the question of the mentee intake it reads
    mentor: str | None = None  # the question of the mentor intake it reads
    weight: int = Field(default=1, ge=0, le=100)
    hard: bool = False
    wisher: Role | None = None  # WISH: whose answer is the wish
    any: tuple[str, ...] = ()  # WISH: answers that wish for nothing in particular
    ignore: tuple[str, ...] = ()  # options (SAME_CHOICE) or language codes that never count
    mentee_answers: tuple[str, ...] = ()  # BOTH_CHOSE
    mentor_answers: tuple[str, ...] = ()  # BOTH_CHOSE
    # PLACE: an area's name (shown as written) and the towns and districts in it.
    areas: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Criterion:
        # The languages each person uses with the bot count even without a question.
        if self.kind is not CriterionKind.LANGUAGES and not (self.mentee and self.mentor):
            raise ValueError(f"criterion '{self.id}' needs a 'mentee' and a 'mentor' question")
        if self.kind is CriterionKind.WISH and self.wisher is None:
            raise ValueError(f"criterion '{self.id}': a wish needs 'wisher: mentee' or 'mentor'")
        if self.kind is CriterionKind.BOTH_CHOSE and not (
            self.mentee_answers and self.mentor_answers
        ):
            raise ValueError(f"criterion '{self.id}' needs 'mentee_answers' and 'mentor_answers'")
        return self

    def question_of(self, role: str) -> str | None:
        return self.mentee if role == "mentee" else self.mentor


class MatchingRules(BaseModel):
    """A programme's `matching:`; without it every available mentor is suggested, those with
    the fewest mentees first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # How many mentees a mentor may have at the same time.
    capacity: int = Field(default=1, ge=1, le=MAX_CAPACITY)
    criteria: tuple[Criterion, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> MatchingRules:
        ids = [criterion.id for criterion in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("field 'criteria': an id is used twice")
        return self

    @property
    def best_score(self) -> int:
        return sum(criterion.weight for criterion in self.criteria)


def matching_problem(rules: MatchingRules, intakes: dict[str, Questionnaire]) -> str | None:
    """What is wrong with the criteria given the programme's intake questionnaire per role
    (the field and the mistake, one line), or None."""
    for index, criterion in enumerate(rules.criteria):
        where = f"matching.criteria.{index}"
        questions: dict[str, Question] = {}
        for role in ("mentee", "mentor"):
            question_id = criterion.question_of(role)
            if question_id is None:
                continue
            intake = intakes.get(role)
            if intake is None:
                # Without a mentor intake the programme has no mentors to weigh (a programme
                # started in the dashboard without a mentor link keeps its template's rules).
                return None
            question = next((q for q in intake.questions if q.id == question_id), None)
            if question is None:
                return f"field '{where}.{role}': the {role} intake has no question '{question_id}'"
            wanted = CHOICE_KINDS if question.type in CHOICE_TYPES else TEXT_KINDS
            if criterion.kind not in wanted:
                return (
                    f"field '{where}.{role}': '{question_id}' is a {question.type} question, "
                    f"which a '{criterion.kind}' criterion cannot read"
                )
            questions[role] = question
        problem = _answers_problem(criterion, questions)
        if problem:
            return f"field '{where}': {problem}"
    return None


def _answers_problem(criterion: Criterion, questions: dict[str, Question]) -> str | None:
    """Answers the criterion names that its questions do not offer."""
    named: dict[str, tuple[str, ...]] = {}
    if criterion.kind is CriterionKind.BOTH_CHOSE:
        named = {"mentee": criterion.mentee_answers, "mentor": criterion.mentor_answers}
    elif criterion.kind is CriterionKind.WISH:
        assert criterion.wisher is not None
        named = {criterion.wisher: criterion.any}
    elif criterion.kind is CriterionKind.SAME_CHOICE:
        named = {"mentee": criterion.ignore, "mentor": criterion.ignore}
    for role, answers in named.items():
        offered = set(questions[role].choice_ids)
        unknown = sorted(set(answers) - offered)
        if unknown:
            return f"the {role} question '{questions[role].id}' has no answers {unknown}"
    if criterion.kind is CriterionKind.WISH:
        assert criterion.wisher is not None
        other = "mentor" if criterion.wisher == "mentee" else "mentee"
        wishes = set(questions[criterion.wisher].choice_ids) - set(criterion.any)
        if not wishes & set(questions[other].choice_ids):
            return "no wish can be met: the two questions share no answer ids"
    return None
