"""The survey engine: one generic step driven by the questionnaire data.

A channel hands over an `Input` for a person; the engine loads that person's state from the
database, validates the input against the current question, stores the answer, picks the next
question with the skip logic and returns a `Reply` to render. It flushes; the caller commits
before it sends anything, so an answer is never lost because a reply failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import (
    DANGER,
    TALK_TO_PERSON,
    VOICE_ANSWER,
    WITHDREW,
    DangerScreen,
    flag_answer,
    flag_to_answer,
    raise_flag,
    record_answer_to_coordinator,
)
from bot.course import apply_triggers
from bot.language import (
    Catalogs,
    QuestionAudio,
    _,
    accepts_voice,
    isolate,
    language_name,
    number,
    progress,
    texts,
    voice_answer,
)
from bot.messages import (
    Action,
    AskForPerson,
    AskToErase,
    Button,
    ChooseLanguage,
    Input,
    MalformedTap,
    OutgoingMessage,
    Press,
    Reply,
    ShowMyData,
    Start,
    Tap,
    Text,
    Unsupported,
    Voice,
    VoiceNote,
    split_text,
)
from bot.people import (
    anonymous_occasion,
    erase_person,
    personal_data,
    respondent_key,
    run_of_contact,
)
from bot.programmes import (
    INTAKE,
    Anonymity,
    AnswerValue,
    Programme,
    Question,
    Questionnaire,
    QuestionType,
    Severity,
)
from storage import repositories as repo
from storage.models import (
    AnswerStatus,
    Contact,
    ContactState,
    Participant,
    ParticipantStatus,
    RunStatus,
    SurveyRun,
    utcnow,
)
from storage.models import Programme as ProgrammeRow

LANGUAGES_IN_ONE_COLUMN = 6


@dataclass(frozen=True)
class EngineConfig:
    default_language: str
    default_programme: str | None
    max_text_length: int
    voice_dir: Path  # where downloaded voice answers are kept (VOICE_STORAGE_DIR)


class SurveyEngine:
    def __init__(
        self,
        questionnaires: dict[str, Questionnaire],
        programmes: dict[str, Programme],
        catalogs: Catalogs,
        config: EngineConfig,
        secret: bytes,
        danger: DangerScreen,
        audio: QuestionAudio | None = None,
    ) -> None:
        self.secret = secret
        self.danger = danger
        self.audio = audio or QuestionAudio({})
        self.questionnaires = questionnaires
        self.programmes = programmes
        self.catalogs = catalogs
        self.config = config

    async def handle(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        incoming: Input,
        language_hint: str | None = None,
    ) -> Reply:
        about_own_data = isinstance(incoming, ShowMyData | AskToErase) or (
            isinstance(incoming, Tap) and incoming.press.action is Action.ERASE
        )
        participant = await repo.participant_for(
            session, channel, user_id, create=not about_own_data
        )
        if participant is not None:
            participant.last_active_at = utcnow()
        language = (participant and participant.language) or self.likely_language(language_hint)
        reply = Reply(participant_id=participant.id if participant else 0, language=language)
        with self.catalogs.use(language):
            if participant is None or (about_own_data and participant.consent_given_at is None):
                reply.messages.append(OutgoingMessage(str(texts.MYDATA_NOTHING)))
            elif about_own_data:
                await self._own_data(session, participant, incoming, reply)
            elif isinstance(incoming, Tap) and incoming.press.action is Action.CONTACT_ME:
                await self._contact_me(session, participant, incoming.press, reply)
            elif self._changes_language(participant, incoming):
                await self._change_language(session, participant, incoming, reply)
            elif self._answers_coordinator(participant, incoming):
                await self._answer_coordinator(session, participant, incoming, reply)
            elif self._wants_a_person(participant, incoming):
                await self._talk(session, participant, incoming, reply)
            else:
                participant.talk_requested_at = None
                participant.answering_flag_id = None
                await self._step(session, participant, incoming, reply)
        return reply

    async def screen_for_danger(
        self,
        session: AsyncSession,
        participant: Participant,
        text: str,
        reply: Reply,
        run: SurveyRun | None = None,
        question_id: str | None = None,
    ) -> None:
        """Words that suggest danger raise an urgent flag and show where to get help now.
        A false alarm is better than a miss (docs/DANGER_SCREENING.md)."""
        hits = self.danger.screen(text, participant.language or self.config.default_language)
        if not hits:
            return
        await raise_flag(
            session,
            programme_id=participant.programme_id,
            participant_id=participant.id if run is None else run.participant_id,
            category=DANGER,
            severity=Severity.URGENT,
            run_id=run.id if run else None,
            questionnaire_id=run.questionnaire_id if run else None,
            question_id=question_id,
            answer=text,
        )
        assert participant.programme is not None
        programme = self.programmes[participant.programme.code]
        lines = "\n".join(f"{_(line.label)}: {line.number}" for line in programme.help_lines)
        reply.messages.append(OutgoingMessage(texts.DANGER_HELP.format(lines=lines)))

    async def _contact_me(
        self, session: AsyncSession, participant: Participant, press: Press, reply: Reply
    ) -> None:
        """Only a "yes" links the flags of an anonymous answer to the person; the run itself
        stays anonymous (the linked flags lose their pointer to it)."""
        run = await session.get(SurveyRun, press.run)
        own = run is not None and run.respondent_key == respondent_key(self.secret, participant.id)
        if not own:
            reply.messages.append(OutgoingMessage(str(texts.NOT_UNDERSTOOD)))
            return
        chosen = texts.CONTACT_ME_YES if press.option == 1 else texts.CONTACT_ME_NO
        reply.edit = OutgoingMessage(f"{texts.ANONYMOUS_FLAG_ASK}\n\n✓ {chosen}")
        if press.option == 1:
            for flag in await repo.unlinked_flags(session, press.run):
                flag.participant_id, flag.run_id = participant.id, None
            reply.messages.append(OutgoingMessage(str(texts.CONTACT_ME_DONE)))
        else:
            reply.messages.append(OutgoingMessage(str(texts.CONTACT_ME_NOT)))

    @staticmethod
    def _changes_language(participant: Participant, incoming: Input) -> bool:
        """`/language`, or a tap on its menu, once a language was chosen (the first choice is
        part of enrolling: `_language_step`)."""
        if participant.language is None or participant.programme is None:
            return False
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.LANGUAGE
        return isinstance(incoming, ChooseLanguage)

    async def _change_language(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> None:
        """Switch at any time; the current question is shown again in the new language."""
        assert participant.programme is not None and participant.language is not None
        languages = list(self.programmes[participant.programme.code].languages)
        if not isinstance(incoming, Tap):
            # The menu is the live message now; the question comes again after the choice.
            reply.messages.append(self._language_menu(languages, participant.language))
            reply.retire_prompt_id = participant.prompt_message_id
            return
        if not 0 <= incoming.press.option < len(languages):
            reply.messages.append(OutgoingMessage(str(texts.NOT_UNDERSTOOD)))
            return
        participant.language = reply.language = languages[incoming.press.option]
        with self.catalogs.use(participant.language):
            reply.edit = OutgoingMessage(
                f"{texts.CHOOSE_LANGUAGE}\n\n✓ {language_name(participant.language)}"
            )
            if participant.consent_given_at is None:
                reply.messages.append(self._consent_prompt())
            else:
                await self._step(session, participant, Start(fresh=True), reply)

    @staticmethod
    def _answers_coordinator(participant: Participant, incoming: Input) -> bool:
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.ANSWER_COORDINATOR
        return isinstance(incoming, Text) and participant.answering_flag_id is not None

    async def _answer_coordinator(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> None:
        """The Answer button under a coordinator's message: ask for the words, put them on the
        flag (the coordinator gets them from the dispatcher), then carry on where they were."""
        if isinstance(incoming, Tap):
            flag_id = incoming.press.option
            if flag_id == 0:
                participant.answering_flag_id = None
                reply.messages.append(OutgoingMessage(str(texts.TALK_CANCELLED)))
            elif await flag_to_answer(session, participant, flag_id) is None:
                reply.messages.append(OutgoingMessage(str(texts.NOT_UNDERSTOOD)))
                return
            else:
                participant.answering_flag_id = flag_id
                cancel = Press(Action.ANSWER_COORDINATOR, option=0)
                reply.messages.append(
                    OutgoingMessage(
                        str(texts.ANSWER_ASK), ((Button(str(texts.TALK_CANCEL), cancel),),)
                    )
                )
                reply.retire_prompt_id = participant.prompt_message_id
                return
        elif isinstance(incoming, Text) and participant.answering_flag_id is not None:
            flag = await flag_to_answer(session, participant, participant.answering_flag_id)
            participant.answering_flag_id = None
            words = incoming.text.strip()[: self.config.max_text_length]
            if flag is not None and words:
                await record_answer_to_coordinator(session, participant, flag, words)
                await self.screen_for_danger(session, participant, words, reply)
                reply.messages.append(OutgoingMessage(str(texts.ANSWER_SENT)))
        await self._step(session, participant, Start(fresh=True), reply)

    @staticmethod
    def _wants_a_person(participant: Participant, incoming: Input) -> bool:
        if participant.programme_id is None or participant.consent_given_at is None:
            return False
        if isinstance(incoming, AskForPerson):
            return True
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.TALK
        return isinstance(incoming, Text | Voice) and participant.talk_requested_at is not None

    async def _talk(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> None:
        """ "Talk to a person": ask for their words, then flag it for the coordinator and say
        honestly when they will hear back."""
        option = incoming.press.option if isinstance(incoming, Tap) else None
        if isinstance(incoming, AskForPerson) or option == 0:
            participant.talk_requested_at = utcnow()
            reply.messages.append(
                OutgoingMessage(
                    str(texts.TALK_ASK),
                    (
                        (
                            Button(str(texts.TALK_SEND), Press(Action.TALK, option=1)),
                            Button(str(texts.TALK_CANCEL), Press(Action.TALK, option=2)),
                        ),
                    ),
                )
            )
            reply.retire_prompt_id = participant.prompt_message_id
            return
        participant.talk_requested_at = None
        if option == 2:
            reply.messages.append(OutgoingMessage(str(texts.TALK_CANCELLED)))
        else:
            words: AnswerValue = None
            if isinstance(incoming, Text):
                words = incoming.text.strip()[: self.config.max_text_length] or None
            elif isinstance(incoming, Voice):
                words = voice_answer(incoming)
                reply.downloads.append((incoming.file_id, words["voice"]["file"]))
            if isinstance(words, str):
                await self.screen_for_danger(session, participant, words, reply)
            await raise_flag(
                session,
                programme_id=participant.programme_id,
                participant_id=participant.id,
                category=TALK_TO_PERSON,
                severity=Severity.SOON,
                answer=words,
            )
            assert participant.programme is not None
            days = self.programmes[participant.programme.code].coordinator_reply_days
            reply.messages.append(OutgoingMessage(texts.TALK_PROMISE.format(days=days)))
        await self._step(session, participant, Start(fresh=True), reply)

    async def _own_data(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> None:
        if isinstance(incoming, ShowMyData):
            data = await personal_data(session, participant, self.questionnaires)
            reply.messages += [OutgoingMessage(part) for part in split_text(data.summary)]
            reply.documents.append(("mydata.json", data.document))
        elif isinstance(incoming, AskToErase):
            reply.messages.append(
                OutgoingMessage(
                    str(texts.DELETE_CONFIRM),
                    (
                        (Button(str(texts.DELETE_YES), Press(Action.ERASE, option=1)),),
                        (Button(str(texts.DELETE_NO), Press(Action.ERASE, option=0)),),
                    ),
                )
            )
        elif isinstance(incoming, Tap):
            confirmed = incoming.press.option == 1
            chosen = texts.DELETE_YES if confirmed else texts.DELETE_NO
            reply.edit = OutgoingMessage(f"{texts.DELETE_CONFIRM}\n\n✓ {chosen}")
            if confirmed:
                reply.retire_prompt_id = participant.prompt_message_id
                await erase_person(session, participant, self.config.voice_dir)
                # The promise of the consent text: the coordinator learns only that they left.
                await raise_flag(
                    session,
                    programme_id=participant.programme_id,
                    participant_id=participant.id,
                    category=WITHDREW,
                    severity=Severity.SOON,
                )
                reply.messages.append(OutgoingMessage(str(texts.DELETE_DONE)))
            else:
                reply.messages.append(OutgoingMessage(str(texts.DELETE_CANCELLED)))

    async def remember_prompt(
        self, session: AsyncSession, participant_id: int, message_id: int | None
    ) -> None:
        """Record which message carries the live buttons (None: no message does)."""
        participant = await session.get(Participant, participant_id)
        if participant is not None:
            participant.prompt_message_id = message_id
            await session.flush()

    def likely_language(self, hint: str | None) -> str:
        if hint:
            base = hint.replace("-", "_").split("_")[0].lower()
            if self.catalogs.has(base):
                return base
        return self.config.default_language

    # -- the steps before the questionnaire: programme, language, consent ------------------

    async def _step(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> None:
        programme = await self._enrol(session, participant, incoming, reply)
        if programme is None:
            return
        if participant.language is None:
            self._language_step(participant, programme, incoming, reply)
            if participant.language is None:
                return
            reply.language = participant.language
            with self.catalogs.use(participant.language):
                reply.messages.append(self._consent_prompt())
            return
        if participant.consent_given_at is None:
            if not self._consent_step(participant, incoming, reply):
                return
            incoming = Start()
        await self._survey_step(session, participant, programme, incoming, reply)

    async def _enrol(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> Programme | None:
        if isinstance(incoming, Start) and incoming.payload:
            found = self._programme_for_code(incoming.payload)
            row = await repo.programme_by_code(session, found[0].code) if found else None
            if found is None or row is None:
                reply.messages.append(OutgoingMessage(str(texts.UNKNOWN_LINK)))
            elif participant.programme_id is None:
                self._join(participant, row, found[1])
        if participant.programme is None and self.config.default_programme:
            row = await repo.programme_by_code(session, self.config.default_programme)
            if row is not None and row.code in self.programmes:
                self._join(participant, row, "mentee")
        if participant.programme is None:
            if not reply.messages:
                reply.messages.append(OutgoingMessage(str(texts.NO_PROGRAMME)))
            return None
        return self.programmes[participant.programme.code]

    def _programme_for_code(self, code: str) -> tuple[Programme, str] | None:
        """The programme and role a deep-link code stands for (mentee and mentor codes differ)."""
        for programme in self.programmes.values():
            role = programme.role_for_code(code)
            if role is not None:
                return programme, role
        return None

    @staticmethod
    def _join(participant: Participant, row: ProgrammeRow, role: str) -> None:
        participant.programme = row
        participant.programme_id = row.id
        participant.role = role

    def _language_step(
        self, participant: Participant, programme: Programme, incoming: Input, reply: Reply
    ) -> None:
        languages = list(programme.languages)
        if (
            isinstance(incoming, Tap)
            and incoming.press.action is Action.LANGUAGE
            and 0 <= incoming.press.option < len(languages)
        ):
            language = languages[incoming.press.option]
            participant.language = language
            with self.catalogs.use(language):
                reply.edit = OutgoingMessage(
                    f"{texts.CHOOSE_LANGUAGE}\n\n✓ {language_name(language)}"
                )
            return
        if not isinstance(incoming, Start | ChooseLanguage):
            reply.messages.append(OutgoingMessage(str(texts.PRESS_A_BUTTON)))
        reply.messages.append(self._language_menu(languages, reply.language))

    def _language_menu(self, languages: list[str], likely: str) -> OutgoingMessage:
        # The request is shown in every offered language: the person may read none of the others.
        ordered = sorted(languages, key=lambda code: code != likely)
        lines = dict.fromkeys(
            self.catalogs.gettext(code, texts.CHOOSE_LANGUAGE.message) for code in ordered
        )
        buttons = [
            Button(language_name(code), Press(Action.LANGUAGE, option=languages.index(code)))
            for code in ordered
        ]
        # Two a row once the list is long, so that it fits a phone's screen.
        width = 1 if len(buttons) <= LANGUAGES_IN_ONE_COLUMN else 2
        keyboard = tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
        return OutgoingMessage("\n".join(lines), keyboard)

    def _consent_prompt(self) -> OutgoingMessage:
        return OutgoingMessage(
            str(texts.CONSENT),
            (
                (Button(str(texts.CONSENT_YES), Press(Action.CONSENT, option=1)),),
                (Button(str(texts.CONSENT_NO), Press(Action.CONSENT, option=0)),),
            ),
        )

    def _consent_step(self, participant: Participant, incoming: Input, reply: Reply) -> bool:
        """True once consent is given now; otherwise the reply asks (again) or says goodbye."""
        if isinstance(incoming, Tap) and incoming.press.action is Action.CONSENT:
            agreed = incoming.press.option == 1
            chosen = texts.CONSENT_YES if agreed else texts.CONSENT_NO
            reply.edit = OutgoingMessage(f"{texts.CONSENT}\n\n✓ {chosen}")
            if agreed:
                participant.consent_given_at = utcnow()
                participant.consent_version = texts.CONSENT_VERSION
                participant.consent_declined_at = None
                return True
            participant.consent_declined_at = utcnow()
            reply.messages.append(OutgoingMessage(str(texts.CONSENT_DECLINED)))
            return False
        if not isinstance(incoming, Start):
            reply.messages.append(OutgoingMessage(str(texts.PRESS_A_BUTTON)))
        reply.messages.append(self._consent_prompt())
        reply.retire_prompt_id = participant.prompt_message_id
        return False

    # -- the questionnaire ------------------------------------------------------------------

    async def _survey_step(
        self,
        session: AsyncSession,
        participant: Participant,
        programme: Programme,
        incoming: Input,
        reply: Reply,
    ) -> None:
        intake = self.questionnaires[programme.intake[participant.role]]
        run = await repo.find_run(session, participant.id, intake.id, INTAKE)
        if run is None or run.status != RunStatus.COMPLETED:
            if isinstance(incoming, Tap) and incoming.press.action is Action.OPEN:
                incoming = Start()  # a check-in button while the intake is open: intake first
            if run is None:
                run = await self._new_run(session, participant, programme, intake, INTAKE, None)
                incoming = Start(fresh=True)
            if await self._step_in_run(session, participant, intake, run, incoming, reply):
                participant.status = ParticipantStatus.WAITING
                reply.messages.append(OutgoingMessage(str(texts.INTAKE_DONE)))
            return
        contact = await self._current_contact(session, participant, incoming, reply)
        if contact is None:
            return
        questionnaire = self.questionnaires[contact.questionnaire_id]
        run = await run_of_contact(session, self.secret, contact)
        if run is None:
            anonymous = await self._anonymity_for(participant, programme, contact, incoming, reply)
            if anonymous is None:
                return
            run = await self._new_run(
                session,
                participant,
                programme,
                questionnaire,
                self._occasion(contact, anonymous),
                respondent_key(self.secret, participant.id) if anonymous else None,
            )
            if not anonymous:
                contact.run_id = run.id
            incoming = Start(fresh=True)
        if await self._step_in_run(session, participant, questionnaire, run, incoming, reply):
            contact.state = ContactState.ANSWERED
            # For an anonymous questionnaire only the fact that it was answered is kept.
            contact.answered_at = None if run.participant_id is None else utcnow()
            participant.active_contact_id = None
            answers = await repo.answers_of(session, run.id)
            await apply_triggers(
                session,
                programme,
                participant,
                questionnaire.id,
                {key: answer.value for key, answer in answers.items()},
            )
            reply.messages.append(OutgoingMessage(str(texts.CONTACT_DONE)))
            if run.participant_id is None and await repo.unlinked_flags(session, run.id):
                reply.messages.append(_ask_to_contact(run.id))

    async def _step_in_run(
        self,
        session: AsyncSession,
        participant: Participant,
        questionnaire: Questionnaire,
        run: SurveyRun,
        incoming: Input,
        reply: Reply,
    ) -> bool:
        """Apply the input to the run; True when this input finished it."""
        step = SurveyStep(session, participant, questionnaire, run, reply, self)
        await step.load()
        await step.handle(incoming)
        return step.finished

    async def _new_run(
        self,
        session: AsyncSession,
        participant: Participant,
        programme: Programme,
        questionnaire: Questionnaire,
        occasion: str,
        key: str | None,
    ) -> SurveyRun:
        first = questionnaire.next_after(None, {})
        assert first is not None
        await repo.lock_anonymity(
            session,
            programme.code,
            questionnaire.id,
            questionnaire.version,
            programme.anonymity_of(questionnaire.id).value,
        )
        now = utcnow()
        return await repo.add_run(
            session,
            SurveyRun(
                participant_id=None if key else participant.id,
                respondent_key=key,
                programme_id=participant.programme_id,
                language=participant.language,
                questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version,
                occasion=occasion,
                status=RunStatus.IN_PROGRESS,
                current_question_id=first.id,
                draft=[],
                # Exact times of an anonymous run could be matched to the contact's.
                started_at=_day(now) if key else now,
            ),
        )

    def _occasion(self, contact: Contact, anonymous: bool) -> str:
        # An anonymous run's occasion must not lead back to the contact row (and so to the
        # person) without the secret.
        if anonymous:
            return anonymous_occasion(self.secret, contact.id)
        return f"contact:{contact.id}"

    async def _current_contact(
        self, session: AsyncSession, participant: Participant, incoming: Input, reply: Reply
    ) -> Contact | None:
        """The contact the person is answering: the one whose button they tapped, or the
        active one. Says so kindly when there is nothing to answer."""
        if isinstance(incoming, Tap) and incoming.press.action is Action.OPEN:
            tapped = await session.get(Contact, incoming.press.option)
            if tapped is None or tapped.participant_id != participant.id:
                reply.messages.append(OutgoingMessage(str(texts.NOT_UNDERSTOOD)))
                return None
            if tapped.state != ContactState.SENT:
                reply.messages.append(OutgoingMessage(str(texts.SURVEY_CLOSED)))
                return None
            participant.active_contact_id = tapped.id
        contact = (
            await session.get(Contact, participant.active_contact_id)
            if participant.active_contact_id
            else None
        )
        if contact is None or contact.state not in {ContactState.SENT, ContactState.EXPIRED}:
            # The oldest survey still waiting for an answer, if any, comes next.
            contact = await repo.oldest_open_contact(session, participant.id)
            participant.active_contact_id = contact.id if contact else None
        elif contact.state == ContactState.EXPIRED:
            # Someone who comes back to a survey that expired may still finish it (partial
            # answers become complete); anything but a button of that survey goes to a newer
            # one, if one is waiting.
            run = await run_of_contact(session, self.secret, contact)
            tapped_run = incoming.press.run if isinstance(incoming, Tap) else None
            newer = await repo.oldest_open_contact(session, participant.id)
            if newer is not None and (run is None or run.id != tapped_run):
                contact = newer
                participant.active_contact_id = newer.id
        if contact is None:
            reply.messages.append(OutgoingMessage(str(texts.NOTHING_OPEN)))
        return contact

    async def _anonymity_for(
        self,
        participant: Participant,
        programme: Programme,
        contact: Contact,
        incoming: Input,
        reply: Reply,
    ) -> bool | None:
        """Whether the new run is anonymous; None while the person has not chosen yet."""
        mode = programme.anonymity_of(contact.questionnaire_id)
        if mode is not Anonymity.RESPONDENT_CHOOSES:
            return mode is Anonymity.ANONYMOUS
        if isinstance(incoming, Tap) and incoming.press.action is Action.ANONYMITY:
            anonymous = incoming.press.option == 0
            chosen = texts.WITHOUT_NAME if anonymous else texts.WITH_NAME
            reply.edit = OutgoingMessage(f"{texts.CHOOSE_ANONYMITY}\n\n✓ {chosen}")
            return anonymous
        reply.messages.append(
            OutgoingMessage(
                str(texts.CHOOSE_ANONYMITY),
                (
                    (Button(str(texts.WITH_NAME), Press(Action.ANONYMITY, option=1)),),
                    (Button(str(texts.WITHOUT_NAME), Press(Action.ANONYMITY, option=0)),),
                ),
            )
        )
        reply.retire_prompt_id = participant.prompt_message_id
        return None


def _ask_to_contact(run_id: int) -> OutgoingMessage:
    """After an anonymous answer that raised a flag: may the coordinator contact them?"""

    def press(option: int) -> Press:
        return Press(Action.CONTACT_ME, run=run_id, option=option)

    return OutgoingMessage(
        str(texts.ANONYMOUS_FLAG_ASK),
        (
            (Button(str(texts.CONTACT_ME_YES), press(1)),),
            (Button(str(texts.CONTACT_ME_NO), press(0)),),
        ),
    )


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


class SurveyStep:
    """One input applied to one open survey run."""

    def __init__(
        self,
        session: AsyncSession,
        participant: Participant,
        questionnaire: Questionnaire,
        run: SurveyRun,
        reply: Reply,
        engine: SurveyEngine,
    ) -> None:
        self.engine = engine
        self.max_text_length = engine.config.max_text_length
        self.session = session
        self.participant = participant
        self.questionnaire = questionnaire
        self.run = run
        self.reply = reply
        self.values: dict[str, AnswerValue] = {}
        self.finished = False

    async def load(self) -> None:
        answers = await repo.answers_of(self.session, self.run.id)
        self.values = {
            question_id: answer.value if answer.status == AnswerStatus.ANSWERED else None
            for question_id, answer in answers.items()
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

    def prompt(self, *notes: str, recorded: bool | None = None) -> None:
        """Show the current question, after any notes. Its recording (if the programme has
        one) comes with it when the question is new or resumed (`recorded`, default: no
        notes), not when it is repeated after a wrong answer."""
        for note in notes:
            self.reply.messages.append(OutgoingMessage(note))
        message = render_prompt(self.questionnaire, self.question, self.run, self.values)
        programme = self.participant.programme
        if (not notes if recorded is None else recorded) and programme is not None:
            path = self.engine.audio.path(
                programme.code,
                self.participant.language or "",
                self.questionnaire.id,
                self.question.id,
            )
            if path is not None:
                message = replace(message, voice=VoiceNote(path=path))
        self.reply.messages.append(message)
        self.reply.retire_prompt_id = self.participant.prompt_message_id

    async def handle(self, incoming: Input) -> None:
        question = self.question
        match incoming:
            case Start(fresh=True):
                self.prompt()
            case Start():
                self.prompt(str(texts.WELCOME_BACK), recorded=True)
            case MalformedTap():
                self.prompt(str(texts.NOT_UNDERSTOOD))
            case Unsupported():
                self.prompt(str(_hint_for_wrong_input(question)))
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
                await self._answer(question, value, AnswerStatus.ANSWERED, edit=False)
        else:
            limit = min(question.max_length or self.max_text_length, self.max_text_length)
            if len(str(value)) > limit:
                self.prompt(texts.TOO_LONG.format(limit=limit))
            else:
                await self.engine.screen_for_danger(
                    self.session, self.participant, str(value), self.reply, self.run, question.id
                )
                await self._answer(question, value, AnswerStatus.ANSWERED, edit=False)

    async def _voice(self, question: Question, voice: Voice) -> None:
        """A voice message answers a free-text question. Word lists cannot screen it, so a
        coordinator listens: it raises an `info` flag for review."""
        if not accepts_voice(question.type):
            self.prompt(str(_hint_for_wrong_input(question)))
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
        await self._answer(question, value, AnswerStatus.ANSWERED, edit=False)

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
                self.reply.edit = render_prompt(self.questionnaire, question, self.run, self.values)
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
                await self._answer(question, None, AnswerStatus.ANSWERED, edit=False)
            case Action.BACK:
                await self._back(question)
            case Action.WHY if question.why:
                self.reply.edit = render_prompt(
                    self.questionnaire, question, self.run, self.values, explain=True
                )
            case Action.SKIP:
                self.prompt(str(texts.CANNOT_SKIP))
            case _:
                self.prompt(str(texts.NOT_UNDERSTOOD))

    async def _answer(
        self, question: Question, value: AnswerValue, status: AnswerStatus, *, edit: bool = True
    ) -> None:
        if edit:
            self.reply.edit = render_answered(
                self.questionnaire, question, self.values, value, status
            )
        anonymous = self.run.participant_id is None
        await flag_answer(self.session, self.run, question, value)
        await repo.record_answer(
            self.session,
            self.run.id,
            question.id,
            value,
            status,
            at=_day(utcnow()) if anonymous else None,
        )
        self.values[question.id] = value
        self.run.draft = []
        following = self.questionnaire.next_after(question.id, self.values)
        if following is None:
            await self._complete()
            return
        self.run.current_question_id = following.id
        self._prefill_draft(following)
        self.prompt()

    async def _back(self, question: Question) -> None:
        previous = self.questionnaire.previous_before(question.id, self.values)
        if previous is None:
            self.prompt(str(texts.NOT_UNDERSTOOD))
            return
        position, total = self.questionnaire.progress(question.id, self.values)
        self.reply.edit = OutgoingMessage(
            f"{progress(position, total)}\n\n{_(question.text)}\n\n{texts.WENT_BACK}"
        )
        self.run.current_question_id = previous.id
        self._prefill_draft(previous)
        self.prompt()

    def _prefill_draft(self, question: Question) -> None:
        earlier = self.values.get(question.id)
        self.run.draft = list(earlier) if isinstance(earlier, list) else []

    async def _complete(self) -> None:
        # Answers to questions that no longer apply (changed after Back) are not kept.
        shown = {question.id for question in self.questionnaire.visible(self.values)}
        stale = [question_id for question_id in self.values if question_id not in shown]
        await repo.drop_answers(self.session, self.run.id, stale)
        self.run.status = RunStatus.COMPLETED
        now = utcnow()
        self.run.completed_at = _day(now) if self.run.participant_id is None else now
        self.run.current_question_id = None
        self.reply.retire_prompt_id = self.participant.prompt_message_id
        self.finished = True


def _hint_for_wrong_input(question: Question) -> object:
    if question.type is QuestionType.TEXT:
        return texts.ONLY_TEXT
    if question.type is QuestionType.NUMBER:
        return texts.NUMBER_HINT.format(min=question.min, max=question.max)
    return texts.PRESS_A_BUTTON


def _parse_number(text: str) -> int | None:
    # int() reads every Unicode decimal digit, so Arabic-Indic and Persian digits work too.
    try:
        return int(text.strip())
    except ValueError:
        return None


# -- rendering ---------------------------------------------------------------------------------


def _heading(
    questionnaire: Questionnaire, question: Question, values: dict[str, AnswerValue]
) -> str:
    position, total = questionnaire.progress(question.id, values)
    return f"{progress(position, total)}\n\n{_(question.text)}"


def answer_label(question: Question, value: AnswerValue) -> str:
    """The answer as the person sees it, in the active language."""
    if isinstance(value, list):
        return ", ".join(_(question.option_text(choice)) for choice in value)
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
    return OutgoingMessage(f"{_heading(questionnaire, question, values)}\n\n✓ {shown}")


def render_prompt(
    questionnaire: Questionnaire,
    question: Question,
    run: SurveyRun,
    values: dict[str, AnswerValue],
    *,
    explain: bool = False,
) -> OutgoingMessage:
    """The question with its buttons; `explain` adds why we ask it (instead of its button)."""
    index = questionnaire.index(question.id)

    def press(action: Action, option: int = 0) -> Press:
        return Press(action, run=run.id, question=index, option=option)

    text = _heading(questionnaire, question, values)
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
            text += f"\n\n{texts.TEXT_HINT}"
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
