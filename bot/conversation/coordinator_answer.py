"""The Answer button under a coordinator's message: ask for the person's words, put them on
the flag (the dispatcher brings them to the coordinator), then carry on where they were."""

from __future__ import annotations

from bot.conversation.screening import screen_for_danger
from bot.conversation.turn import Turn
from bot.coordination import flag_to_answer, record_answer_to_coordinator
from bot.language import texts
from bot.messages import Action, Button, Input, Press, Start, Tap, Text
from storage.models import Participant

CANCEL = 0  # the option of Action.ANSWER_COORDINATOR that cancels; any other is a flag's id


class AnswerToCoordinator:
    def claims(self, participant: Participant, incoming: Input) -> bool:
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.ANSWER_COORDINATOR
        return isinstance(incoming, Text) and participant.answering_flag_id is not None

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        participant = turn.participant
        if isinstance(incoming, Tap):
            flag_id = incoming.press.option
            if flag_id == CANCEL:
                participant.answering_flag_id = None
                turn.say(texts.TALK_CANCELLED)
            elif await flag_to_answer(turn.session, participant, flag_id) is None:
                turn.say(texts.NOT_UNDERSTOOD)
                return Start(fresh=True)  # not their flag: whatever they were doing, again
            else:
                participant.answering_flag_id = flag_id
                cancel = Press(Action.ANSWER_COORDINATOR, option=CANCEL)
                turn.say(texts.ANSWER_ASK, (Button(str(texts.TALK_CANCEL), cancel),))
                turn.retire_prompt()
                return None
        elif isinstance(incoming, Text) and participant.answering_flag_id is not None:
            flag = await flag_to_answer(turn.session, participant, participant.answering_flag_id)
            participant.answering_flag_id = None
            words = incoming.text.strip()[: turn.setup.config.max_text_length]
            if flag is not None and words:
                await record_answer_to_coordinator(turn.session, participant, flag, words)
                await screen_for_danger(turn, words)
                turn.say(texts.ANSWER_SENT)
        return Start(fresh=True)
