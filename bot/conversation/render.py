"""A question as the person sees it: its text, progress and buttons, the answer given, and the
summary of a finished survey. Every label goes through gettext in the active language; numbers
through Babel."""

from __future__ import annotations

from bot.language import _, isolate, listing, number, progress, texts, value_text, voice_of
from bot.messages import Action, Button, OutgoingMessage, Press, split_text
from bot.programmes import AnswerValue, Question, Questionnaire, QuestionType
from storage.models import AnswerStatus, SurveyRun


def hint_for_wrong_input(question: Question) -> object:
    if question.type is QuestionType.TEXT:
        return texts.ONLY_TEXT
    if question.type is QuestionType.NUMBER:
        return texts.NUMBER_HINT.format(min=question.min, max=question.max)
    return texts.PRESS_A_BUTTON


def heading(
    questionnaire: Questionnaire, question: Question, values: dict[str, AnswerValue]
) -> str:
    position, total = questionnaire.progress(question.id, values)
    return f"{progress(position, total)}\n\n{_(question.text)}"


def answer_label(question: Question, value: AnswerValue) -> str:
    """The answer as the person sees it, in the active language."""
    if isinstance(value, list):
        return listing(_(question.option_text(choice)) for choice in value)
    if question.type is QuestionType.SINGLE and isinstance(value, str):
        return _(question.option_text(value))
    return "" if value is None else str(value)


def render_answered(
    questionnaire: Questionnaire,
    question: Question,
    values: dict[str, AnswerValue],
    value: AnswerValue,
    status: AnswerStatus,
) -> OutgoingMessage:
    if status is AnswerStatus.SKIPPED:
        shown = str(texts.SKIPPED)
    elif status is AnswerStatus.DECLINED:
        shown = str(texts.PREFER_NOT)
    else:
        shown = answer_label(question, value)
    return OutgoingMessage(f"{heading(questionnaire, question, values)}\n\n✓ {shown}")


def render_prompt(
    questionnaire: Questionnaire,
    question: Question,
    run: SurveyRun,
    values: dict[str, AnswerValue],
    *,
    explain: bool = False,
    voice: bool = True,
) -> OutgoingMessage:
    """The question with its buttons; `explain` adds why we ask it (instead of its button);
    `voice`: the channel takes a voice message for a free-text answer, so it is offered."""
    index = questionnaire.index(question.id)

    def press(action: Action, option: int = 0) -> Press:
        return Press(action, run=run.id, question=index, option=option)

    text = heading(questionnaire, question, values)
    rows: list[tuple[Button, ...]] = []
    match question.type:
        case QuestionType.SINGLE:
            rows += [
                (Button(_(option.text), press(Action.CHOOSE, i)),)
                for i, option in enumerate(question.options)
            ]
        case QuestionType.SCALE:
            assert question.min is not None and question.max is not None
            rows.append(
                tuple(
                    Button(number(int(choice)), press(Action.CHOOSE, i))
                    for i, choice in enumerate(question.choice_ids)
                )
            )
            if question.min_label and question.max_label:
                text += (
                    f"\n\n{isolate(number(question.min), numeric=True)} = {_(question.min_label)}\n"
                    f"{isolate(number(question.max), numeric=True)} = {_(question.max_label)}"
                )
        case QuestionType.MULTI:
            text += f"\n\n{texts.MULTI_HINT}"
            rows += [
                (
                    Button(
                        ("✓ " if option.id in run.draft else "") + _(option.text),
                        press(Action.TOGGLE, i),
                    ),
                )
                for i, option in enumerate(question.options)
            ]
            rows.append((Button(str(texts.DONE), press(Action.DONE)),))
        case QuestionType.TEXT:
            text += f"\n\n{texts.TEXT_HINT if voice else texts.TEXT_ONLY_HINT}"
        case QuestionType.NUMBER:
            text += "\n\n" + texts.NUMBER_HINT.format(min=question.min, max=question.max)
        case QuestionType.INFO:
            rows.append((Button(str(texts.NEXT), press(Action.NEXT)),))
    if question.personal:
        rows.append((Button(str(texts.PREFER_NOT), press(Action.DECLINE)),))
    navigation: list[Button] = []
    if questionnaire.previous_before(question.id, values) is not None:
        navigation.append(Button(str(texts.BACK), press(Action.BACK)))
    if not question.required:
        navigation.append(Button(str(texts.SKIP), press(Action.SKIP)))
    if navigation:
        rows.append(tuple(navigation))
    if question.why and explain:
        text += f"\n\n❓ {_(question.why)}"
    elif question.why:
        rows.append((Button(str(texts.WHY_BUTTON), press(Action.WHY)),))
    rows.append((Button(str(texts.TALK_BUTTON), press(Action.TALK)),))
    return OutgoingMessage(text, tuple(rows))


def given_answer(question: Question, value: AnswerValue, status: AnswerStatus) -> str:
    """An answer in the summary: chosen options in the reader's language; typed text and
    numbers isolated, so that they keep their order inside right-to-left text."""
    if status is AnswerStatus.SKIPPED:
        return str(texts.SKIPPED)
    if status is AnswerStatus.DECLINED:
        return str(texts.PREFER_NOT)
    if question.type in {QuestionType.SINGLE, QuestionType.MULTI} or voice_of(value) is not None:
        return value_text(question, value)
    return isolate("" if value is None else str(value), numeric=isinstance(value, int))


def render_summary(
    questionnaire: Questionnaire,
    values: dict[str, AnswerValue],
    statuses: dict[str, AnswerStatus],
) -> list[OutgoingMessage]:
    """A finished survey's answers, question by question in the order they were asked, for
    the person who gave them; more than one message if they are too long for one."""
    lines = [str(texts.YOUR_ANSWERS)]
    for question in questionnaire.visible(values):
        status = statuses.get(question.id)
        if status is None or question.type is QuestionType.INFO:
            continue
        shown = given_answer(question, values.get(question.id), status)
        lines += ["", _(question.text), f"✓ {shown}"]
    return [OutgoingMessage(part) for part in split_text("\n".join(lines))]
