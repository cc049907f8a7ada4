"""The survey runner: one generic step driven by the questionnaire data.

It takes one input for one open run of a questionnaire, validates it against the current
question, stores the answer, picks the next question with the skip logic and puts what to say
next into the turn's reply. It flushes; the caller commits before anything is sent, so an answer
is never lost because a reply failed. It knows nothing of enrolment, check-ins or the side
conversations: those decide which run it works on and when.

An answer given by a button costs one message: the pressed message becomes the next question
(or, at the end, the summary of the answers). Only a question with a recording comes as new
messages (a voice note cannot be edited into text), and so does the question after a typed
answer (the person's own message cannot be edited).
"""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.render import (
    heading,
    hint_for_wrong_input,
    render_answered,
    render_prompt,
    render_summary,
)
from bot.conversation.screening import screen_for_danger
from bot.conversation.turn import Turn
from bot.coordination import VOICE_ANSWER, flag_answer, raise_flag
from bot.language import accepts_voice, texts, voice_answer
from bot.messages import (
    Action,
    Input,
    MalformedTap,
    OutgoingMessage,
    Press,
    Start,
    Tap,
    Text,
    Unsupported,
    Voice,
    VoiceNote,
)
from bot.monitoring import ANSWERS_STORED, count_when_committed
from bot.programmes import AnswerValue, Question, Questionnaire, QuestionType, Severity
from storage import repositories as repo
from storage.database import clock_now
from storage.days import today_only
from storage.models import AnswerStatus, RunStatus, SurveyRun


async def take_step(
    turn: Turn, questionnaire: Questionnaire, run: SurveyRun, incoming: Input
) -> bool:
    """Apply the input to the run; True when this input finished it."""
    runner = SurveyRunner(turn, questionnaire, run)
    await runner.load()
    await runner.take(incoming)
    return runner.finished


class SurveyRunner:
    """One input applied to one open survey run."""

    def __init__(self, turn: Turn, questionnaire: Questionnaire, run: SurveyRun) -> None:
        self.turn = turn
        self.session = turn.session
        self.participant = turn.participant
        self.reply = turn.reply
        self.questionnaire = questionnaire
        self.run = run
        self.values: dict[str, AnswerValue] = {}
        self.statuses: dict[str, AnswerStatus] = {}
        self.finished = False

    async def load(self) -> None:
        answers = await repo.answers_of(self.session, self.run.id)
        self.values = {
            question_id: answer.value if answer.status == AnswerStatus.ANSWERED else None
            for question_id, answer in answers.items()
        }
        self.statuses = {
            question_id: AnswerStatus(answer.status) for question_id, answer in answers.items()
        }

    @property
    def question(self) -> Question:
        current = self.run.current_question_id
        ids = {question.id for question in self.questionnaire.questions}
        if current in ids:
            return self.questionnaire.question(current)
        # The questionnaire changed under a running survey: go on at the first open question.
        for question in self.questionnaire.visible(self.values):
            if question.id not in self.values:
                self.run.current_question_id = question.id
                return question
        return self.questionnaire.visible(self.values)[-1]

    def prompt(self, *notes: str, recorded: bool | None = None, in_pressed: bool = False) -> bool:
        """Show the current question, after any notes. Its recording (if the programme has
        one) comes with it when the question is new or resumed (`recorded`, default: no
        notes), not when it is repeated after a wrong answer. `in_pressed`: in the message
        whose button was pressed, unless the question comes with its recording. True when it
        is shown there."""
        for note in notes:
            self.reply.messages.append(OutgoingMessage(note))
        message = self._render(self.question)
        programme = self.participant.programme
        if (not notes if recorded is None else recorded) and programme is not None:
            path = self.turn.setup.audio.path(
                programme.code,
                self.participant.language or "",
                self.questionnaire.id,
                self.question.id,
            )
            if path is not None:
                message = replace(message, voice=VoiceNote(path=path))
        self.reply.retire_prompt_id = self.participant.prompt_message_id
        if in_pressed and message.voice is None:
            self._show_in_pressed(message)
            return True
        self.reply.messages.append(message)
        return False

    def _render(self, question: Question, *, explain: bool = False) -> OutgoingMessage:
        return render_prompt(
            self.questionnaire,
            question,
            self.run,
            self.values,
            explain=explain,
            voice=self.turn.voice_answers,
        )

    def _show_in_pressed(self, message: OutgoingMessage) -> None:
        self.reply.edit = message
        self.reply.edit_shows_next = True

    async def take(self, incoming: Input) -> None:
        question = self.question
        match incoming:
            case Start(fresh=True):
                self.prompt()
            case Start():
                self.prompt(str(texts.WELCOME_BACK), recorded=True)
            case MalformedTap():
                self.prompt(str(texts.NOT_UNDERSTOOD))
            case Unsupported():
                self.prompt(str(hint_for_wrong_input(question)))
            case Text(text=text):
                await self._text(question, text)
            case Voice():
                await self._voice(question, incoming)
            case Tap(press=press) if press.action in {Action.OPEN, Action.ANONYMITY}:
                self.prompt(str(texts.WELCOME_BACK), recorded=True)
            case Tap(press=press):
                await self._tap(question, press)

    async def _text(self, question: Question, text: str) -> None:
        value: AnswerValue = text.strip()
        if question.type not in {QuestionType.TEXT, QuestionType.NUMBER}:
            self.prompt(str(texts.PRESS_A_BUTTON))
        elif not value:
            self.prompt(str(texts.WRITE_SOMETHING))
        elif question.type is QuestionType.NUMBER:
            assert question.min is not None and question.max is not None
            value = _parse_number(text)
            if value is None or not question.min <= value <= question.max:
                self.prompt(texts.NOT_A_NUMBER.format(min=question.min, max=question.max))
            else:
                await self._answer(question, value, AnswerStatus.ANSWERED, pressed=False)
        else:
            most = self.turn.setup.config.max_text_length
            limit = min(question.max_length or most, most)
            if len(str(value)) > limit:
                self.prompt(texts.TOO_LONG.format(limit=limit))
            else:
                await screen_for_danger(self.turn, str(value), self.run, question.id)
                await self._answer(question, value, AnswerStatus.ANSWERED, pressed=False)

    async def _voice(self, question: Question, voice: Voice) -> None:
        """A voice message answers a free-text question. Word lists cannot screen it, so a
        coordinator listens: it raises an `info` flag for review."""
        if not accepts_voice(question.type):
            self.prompt(str(hint_for_wrong_input(question)))
            return
        value = voice_answer(voice)
        self.reply.downloads.append((voice.file_id, value["voice"]["file"]))
        await raise_flag(
            self.session,
            programme_id=self.run.programme_id,
            participant_id=self.run.participant_id,
            category=VOICE_ANSWER,
            severity=Severity.INFO,
            run_id=self.run.id,
            questionnaire_id=self.run.questionnaire_id,
            question_id=question.id,
            answer=value,
        )
        await self._answer(question, value, AnswerStatus.ANSWERED, pressed=False)

    async def _tap(self, question: Question, press: Press) -> None:
        index = self.questionnaire.index(question.id)
        if press.run != self.run.id or press.question != index:
            self.prompt(str(texts.OLD_BUTTON))
            return
        choices = question.choice_ids
        match press.action:
            case Action.CHOOSE if question.type in {QuestionType.SINGLE, QuestionType.SCALE}:
                if not 0 <= press.option < len(choices):
                    self.prompt(str(texts.NOT_UNDERSTOOD))
                    return
                choice = choices[press.option]
                value: AnswerValue = int(choice) if question.type is QuestionType.SCALE else choice
                await self._answer(question, value, AnswerStatus.ANSWERED)
            case Action.TOGGLE if question.type is QuestionType.MULTI:
                if not 0 <= press.option < len(choices):
                    self.prompt(str(texts.NOT_UNDERSTOOD))
                    return
                picked = set(self.run.draft) ^ {choices[press.option]}
                self.run.draft = [choice for choice in choices if choice in picked]
                self._show_in_pressed(self._render(question))
            case Action.DONE if question.type is QuestionType.MULTI:
                if not self.run.draft:
                    self.prompt(str(texts.CHOOSE_AT_LEAST_ONE))
                    return
                await self._answer(question, list(self.run.draft), AnswerStatus.ANSWERED)
            case Action.SKIP if not question.required:
                await self._answer(question, None, AnswerStatus.SKIPPED)
            case Action.DECLINE if question.personal:
                await self._answer(question, None, AnswerStatus.DECLINED)
            case Action.NEXT if question.type is QuestionType.INFO:
                await self._answer(question, None, AnswerStatus.ANSWERED)
            case Action.BACK:
                await self._back(question)
            case Action.WHY if question.why:
                self._show_in_pressed(self._render(question, explain=True))
            case Action.SKIP:
                self.prompt(str(texts.CANNOT_SKIP))
            case _:
                self.prompt(str(texts.NOT_UNDERSTOOD))

    async def _answer(
        self, question: Question, value: AnswerValue, status: AnswerStatus, *, pressed: bool = True
    ) -> None:
        """Store the answer and show what follows: in the pressed message if a button gave it
        (where, if the next question cannot be shown, the answer given is shown instead)."""
        if question.type is QuestionType.INFO:  # read, not answered: it stays as it was
            answered = OutgoingMessage(heading(self.questionnaire, question, self.values))
        else:
            answered = render_answered(self.questionnaire, question, self.values, value, status)
        anonymous = self.run.participant_id is None
        await flag_answer(self.session, self.run, question, value)
        await repo.record_answer(
            self.session,
            self.run.id,
            question.id,
            value,
            status,
            # All an anonymous run keeps of when it was answered: the day (storage/days.py).
            at=await today_only(self.session, self.run.programme_id) if anonymous else None,
        )
        if not anonymous:  # the moment a counter moves would date an anonymous answer
            count_when_committed(self.session, ANSWERS_STORED, self.turn.programme.code)
        self.values[question.id] = value
        self.statuses[question.id] = status
        self.run.draft = []
        following = self.questionnaire.next_after(question.id, self.values)
        if following is None:
            await self._complete(pressed=pressed)
            return
        self.run.current_question_id = following.id
        self._prefill_draft(following)
        if not self.prompt(in_pressed=pressed) and pressed:
            self.reply.edit = answered

    async def _back(self, question: Question) -> None:
        previous = self.questionnaire.previous_before(question.id, self.values)
        if previous is None:
            self.prompt(str(texts.NOT_UNDERSTOOD))
            return
        shown = heading(self.questionnaire, question, self.values)
        self.run.current_question_id = previous.id
        self._prefill_draft(previous)
        if not self.prompt(in_pressed=True):
            self.reply.edit = OutgoingMessage(f"{shown}\n\n{texts.WENT_BACK}")

    def _prefill_draft(self, question: Question) -> None:
        earlier = self.values.get(question.id)
        self.run.draft = list(earlier) if isinstance(earlier, list) else []

    async def _complete(self, *, pressed: bool) -> None:
        # Answers to questions that no longer apply (changed after Back) are not kept.
        shown = {question.id for question in self.questionnaire.visible(self.values)}
        stale = [question_id for question_id in self.values if question_id not in shown]
        await repo.drop_answers(self.session, self.run.id, stale)
        # The person's own answers, shown to her only (in her chat), anonymous surveys too.
        summary = render_summary(self.questionnaire, self.values, self.statuses)
        if pressed:
            self._show_in_pressed(summary[0])
            summary = summary[1:]
        self.reply.messages += summary
        self.run.status = RunStatus.COMPLETED
        self.run.completed_at = (
            await today_only(self.session, self.run.programme_id)
            if self.run.participant_id is None
            else clock_now(self.session)
        )
        self.run.current_question_id = None
        self.reply.retire_prompt_id = self.participant.prompt_message_id
        self.finished = True


def _parse_number(text: str) -> int | None:
    # int() reads every Unicode decimal digit, so Arabic-Indic and Persian digits work too.
    try:
        return int(text.strip())
    except ValueError:
        return None
