""" "Talk to a person": ask for the person's words (or a voice message), flag them for the
coordinator and say honestly when they will hear back."""

from __future__ import annotations

from bot.conversation.screening import screen_for_danger
from bot.conversation.turn import Turn
from bot.coordination import TALK_TO_PERSON, raise_flag
from bot.language import texts, voice_answer
from bot.messages import Action, AskForPerson, Button, Input, Press, Start, Tap, Text, Voice
from bot.programmes import AnswerValue, Severity
from storage.database import clock_now
from storage.models import Participant

ASK, SEND, CANCEL = 0, 1, 2  # the options of Action.TALK


class TalkToPerson:
    def claims(self, participant: Participant, incoming: Input) -> bool:
        if participant.programme_id is None or participant.consent_given_at is None:
            return False
        if isinstance(incoming, AskForPerson):
            return True
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.TALK
        return isinstance(incoming, Text | Voice) and participant.talk_requested_at is not None

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        participant = turn.participant
        option = incoming.press.option if isinstance(incoming, Tap) else None
        if isinstance(incoming, AskForPerson) or option == ASK:
            participant.talk_requested_at = clock_now(turn.session)
            turn.say(
                texts.TALK_ASK,
                (
                    Button(str(texts.TALK_SEND), Press(Action.TALK, option=SEND)),
                    Button(str(texts.TALK_CANCEL), Press(Action.TALK, option=CANCEL)),
                ),
            )
            turn.retire_prompt()
            return None
        participant.talk_requested_at = None
        if option == CANCEL:
            turn.say(texts.TALK_CANCELLED)
            return Start(fresh=True)
        words: AnswerValue = None
        if isinstance(incoming, Text):
            words = incoming.text.strip()[: turn.setup.config.max_text_length] or None
        elif isinstance(incoming, Voice):
            words = voice_answer(incoming)
            turn.reply.downloads.append((incoming.file_id, words["voice"]["file"]))
        if isinstance(words, str):
            await screen_for_danger(turn, words)
        await raise_flag(
            turn.session,
            programme_id=participant.programme_id,
            participant_id=participant.id,
            category=TALK_TO_PERSON,
            severity=Severity.SOON,
            answer=words,
        )
        turn.say(texts.TALK_PROMISE.format(days=turn.programme.coordinator_reply_days))
        return Start(fresh=True)
