"""The conversation engine: where a channel hands over one person's input.

It finds (or enrols) the person, offers the input to each side conversation (own data, a
linked flag, the language, an answer to the coordinator, talk to a person) and otherwise to the
person's way through the programme (`journey`), whose survey runner does the questions. It
flushes; the caller commits before it sends anything, so an answer is never lost because a
reply failed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.contact_me import ContactMe
from bot.conversation.coordinator_answer import AnswerToCoordinator
from bot.conversation.journey import next_step
from bot.conversation.language_choice import LanguageSwitch
from bot.conversation.own_data import OwnData
from bot.conversation.talk import TalkToPerson
from bot.conversation.turn import ConversationSetup, SideConversation, Turn
from bot.language import texts
from bot.messages import Input, OutgoingMessage, Reply
from bot.monitoring import bind_log_fields
from storage import repositories as repo
from storage.database import clock_now
from storage.models import Participant

# In this order: the first that claims an input answers it.
SIDE_CONVERSATIONS: tuple[SideConversation, ...] = (
    OwnData(),
    ContactMe(),
    LanguageSwitch(),
    AnswerToCoordinator(),
    TalkToPerson(),
)


class SurveyEngine(ConversationSetup):
    async def handle(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        incoming: Input,
        language_hint: str | None = None,
        *,
        voice_answers: bool = True,
    ) -> Reply:
        about_own_data = OwnData.concerns(incoming)
        participant = await repo.participant_for(
            session, channel, user_id, create=not about_own_data
        )
        if participant is not None:
            participant.last_active_at = clock_now(session)
            # The log lines of this input name the person by number and programme only.
            bind_log_fields(
                participant_id=participant.id,
                programme=participant.programme.code
                if participant.programme_id is not None and participant.programme is not None
                else None,
            )
        language = (participant and participant.language) or self.likely_language(language_hint)
        reply = Reply(participant_id=participant.id if participant else 0, language=language)
        with self.catalogs.use(language):
            if participant is None or (about_own_data and participant.consent_given_at is None):
                reply.messages.append(OutgoingMessage(str(texts.MYDATA_NOTHING)))
                return reply
            turn = Turn(self, session, participant, reply, voice_answers)
            side = next((s for s in SIDE_CONVERSATIONS if s.claims(participant, incoming)), None)
            if side is None:
                # Anything else ends a half-begun side conversation.
                participant.talk_requested_at = None
                participant.answering_flag_id = None
                then: Input | None = incoming
            else:
                then = await side.reply(turn, incoming)
        if then is not None:
            # A side conversation may have changed the language.
            with self.catalogs.use(participant.language or language):
                await next_step(turn, then)
        return reply

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
