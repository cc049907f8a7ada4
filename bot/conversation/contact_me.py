"""After an anonymous answer that raised a flag: may the coordinator contact the person?

Asking to be contacted gives up anonymity for that request: the coordinator sees who asked,
and the answer it is about. So a "yes, contact me" first says so in plain words, and only
"yes, send it with my name" links the flags to the person; "no" sends nothing and stores
nothing that ties her to the run. The run itself stays anonymous either way.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.language import texts
from bot.messages import Action, Button, Input, OutgoingMessage, Press, Start, Tap
from bot.people import respondent_key
from storage import repositories as repo
from storage.models import Participant, SurveyRun

# The options of Action.CONTACT_ME (with the run's id): no thank you; contact me (asks what
# that means first); yes, send it with my name; no, do not send.
NO, CONTACT_ME, SEND_WITH_NAME, DO_NOT_SEND = 0, 1, 2, 3


def _press(run_id: int, option: int) -> Press:
    return Press(Action.CONTACT_ME, run=run_id, option=option)


def ask_to_contact(run_id: int) -> OutgoingMessage:
    """The question, with its two buttons, that ends such an anonymous run."""
    return OutgoingMessage(
        str(texts.ANONYMOUS_FLAG_ASK),
        (
            (Button(str(texts.CONTACT_ME_YES), _press(run_id, CONTACT_ME)),),
            (Button(str(texts.CONTACT_ME_NO), _press(run_id, NO)),),
        ),
    )


def ask_to_give_up_anonymity(run_id: int) -> OutgoingMessage:
    """Before the request is sent: the coordinator will see who she is; send it?"""
    return OutgoingMessage(
        str(texts.CONTACT_ME_CONSENT),
        (
            (Button(str(texts.CONTACT_ME_SEND), _press(run_id, SEND_WITH_NAME)),),
            (Button(str(texts.CONTACT_ME_DONT_SEND), _press(run_id, DO_NOT_SEND)),),
        ),
    )


class ContactMe:
    """The answers to `ask_to_contact` and `ask_to_give_up_anonymity`. The linked flags lose
    their pointer to the run."""

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
        if press.option == CONTACT_ME:
            turn.confirm(texts.ANONYMOUS_FLAG_ASK, texts.CONTACT_ME_YES)
            turn.reply.messages.append(ask_to_give_up_anonymity(run.id))
        elif press.option == SEND_WITH_NAME:
            turn.confirm(texts.CONTACT_ME_CONSENT, texts.CONTACT_ME_SEND)
            for flag in await repo.unlinked_flags(turn.session, press.run):
                flag.participant_id, flag.run_id = turn.participant.id, None
            turn.say(texts.CONTACT_ME_DONE)
        elif press.option == DO_NOT_SEND:
            turn.confirm(texts.CONTACT_ME_CONSENT, texts.CONTACT_ME_DONT_SEND)
            turn.say(texts.CONTACT_ME_NOT_SENT)
        else:
            turn.confirm(texts.ANONYMOUS_FLAG_ASK, texts.CONTACT_ME_NO)
            turn.say(texts.CONTACT_ME_NOT)
        return None
