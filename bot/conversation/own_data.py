"""A person's own data: `/mydata` shows all of it and sends it as a file; `/delete` asks once
and then erases the person. The coordinator learns only that they left."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.coordination import WITHDREW, raise_flag
from bot.language import texts
from bot.messages import (
    Action,
    AskToErase,
    Button,
    Input,
    OutgoingMessage,
    Press,
    ShowMyData,
    Tap,
    split_text,
)
from bot.people import erase_person, personal_data
from bot.programmes import Severity
from storage.models import Participant


class OwnData:
    @staticmethod
    def concerns(incoming: Input) -> bool:
        """Whether the input is about the person's own data (so it must not enrol anyone)."""
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.ERASE
        return isinstance(incoming, ShowMyData | AskToErase)

    def claims(self, participant: Participant, incoming: Input) -> bool:
        return self.concerns(incoming)

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        if isinstance(incoming, ShowMyData):
            data = await personal_data(turn.session, turn.participant, turn.setup.questionnaires)
            turn.reply.messages += [OutgoingMessage(part) for part in split_text(data.summary)]
            turn.reply.documents.append(("mydata.json", data.document))
        elif isinstance(incoming, AskToErase):
            turn.say(
                texts.DELETE_CONFIRM,
                (Button(str(texts.DELETE_YES), Press(Action.ERASE, option=1)),),
                (Button(str(texts.DELETE_NO), Press(Action.ERASE, option=0)),),
            )
        elif isinstance(incoming, Tap) and incoming.press.option == 1:
            turn.confirm(texts.DELETE_CONFIRM, texts.DELETE_YES)
            turn.retire_prompt()
            participant = turn.participant
            await erase_person(turn.session, participant, turn.setup.config.voice_dir)
            # The promise of the consent text: the coordinator learns only that they left.
            await raise_flag(
                turn.session,
                programme_id=participant.programme_id,
                participant_id=participant.id,
                category=WITHDREW,
                severity=Severity.SOON,
            )
            turn.say(texts.DELETE_DONE)
        else:
            turn.confirm(texts.DELETE_CONFIRM, texts.DELETE_NO)
            turn.say(texts.DELETE_CANCELLED)
        return None
