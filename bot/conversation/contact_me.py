"""After an anonymous answer that raised a flag: may the coordinator contact the person?
Only a "yes" links the flags to the person; the run itself stays anonymous."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.language import texts
from bot.messages import Action, Button, Input, OutgoingMessage, Press, Start, Tap
from bot.people import respondent_key
from storage import repositories as repo
from storage.models import Participant, SurveyRun


def ask_to_contact(run_id: int) -> OutgoingMessage:
    """The question, with its two buttons, that ends such an anonymous run."""

    def press(option: int) -> Press:
        return Press(Action.CONTACT_ME, run=run_id, option=option)

    return OutgoingMessage(
        str(texts.ANONYMOUS_FLAG_ASK),
        (
            (Button(str(texts.CONTACT_ME_YES), press(1)),),
            (Button(str(texts.CONTACT_ME_NO), press(0)),),
        ),
    )


class ContactMe:
    """The answer to `ask_to_contact`. The linked flags lose their pointer to the run."""

    def claims(self, participant: Participant, incoming: Input) -> bool:
        return isinstance(incoming, Tap) and incoming.press.action is Action.CONTACT_ME

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        assert isinstance(incoming, Tap)
        press = incoming.press
        run = await turn.session.get(SurveyRun, press.run)
        key = respondent_key(turn.setup.secret, turn.participant.id)
        if run is None or run.respondent_key != key:
            turn.say(texts.NOT_UNDERSTOOD)
            return Start(fresh=True)  # not theirs, or gone: whatever they were doing, again
        yes = press.option == 1
        turn.confirm(texts.ANONYMOUS_FLAG_ASK, texts.CONTACT_ME_YES if yes else texts.CONTACT_ME_NO)
        if yes:
            for flag in await repo.unlinked_flags(turn.session, press.run):
                flag.participant_id, flag.run_id = turn.participant.id, None
            turn.say(texts.CONTACT_ME_DONE)
        else:
            turn.say(texts.CONTACT_ME_NOT)
        return None
