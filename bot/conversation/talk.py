""" "Talk to a person": ask for the person's words (or a voice message), flag them for the
coordinator and say honestly when they will hear back.

In the middle of an anonymous survey the words go with the person's name, unlike her answers:
the bot says so first, and asks for them only after "yes, with my name"."""

from __future__ import annotations

from bot.conversation.screening import screen_for_danger
from bot.conversation.turn import Turn
from bot.coordination import TALK_TO_PERSON, raise_flag
from bot.language import texts, voice_answer
from bot.messages import Action, AskForPerson, Button, Input, Press, Start, Tap, Text, Voice
from bot.people import run_of_contact
from bot.programmes import AnswerValue, Severity
from storage.database import clock_now
from storage.models import Contact, Participant, RunStatus

# The options of Action.TALK: ask for words, send without words, cancel; and in an anonymous
# survey, first: yes, with my name, or no, do not send.
ASK, SEND, CANCEL, WITH_NAME, DO_NOT_SEND = 0, 1, 2, 3, 4


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
        asks = isinstance(incoming, AskForPerson) or option in {ASK, SEND}
        if option == DO_NOT_SEND:
            turn.confirm(texts.TALK_CONSENT, texts.CONTACT_ME_DONT_SEND)
            turn.say(texts.CONTACT_ME_NOT_SENT)
            return Start(fresh=True)
        if asks and participant.talk_requested_at is None and await _in_anonymous_survey(turn):
            turn.say(
                texts.TALK_CONSENT,
                (Button(str(texts.TALK_WITH_NAME), Press(Action.TALK, option=WITH_NAME)),),
                (Button(str(texts.CONTACT_ME_DONT_SEND), Press(Action.TALK, option=DO_NOT_SEND)),),
            )
            turn.retire_prompt()
            return None
        if option == WITH_NAME:
            turn.confirm(texts.TALK_CONSENT, texts.TALK_WITH_NAME)
        if isinstance(incoming, AskForPerson) or option in {ASK, WITH_NAME}:
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


async def _in_anonymous_survey(turn: Turn) -> bool:
    """Whether the person is answering an anonymous questionnaire now."""
    contact_id = turn.participant.active_contact_id
    contact = await turn.session.get(Contact, contact_id) if contact_id is not None else None
    if contact is None or contact.run_id is not None:  # none, or a named run
        return False
    run = await run_of_contact(turn.session, turn.setup.secret, contact)
    return run is not None and run.participant_id is None and run.status == RunStatus.IN_PROGRESS
