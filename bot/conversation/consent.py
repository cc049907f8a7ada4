"""Consent, asked once a language is chosen and before any question: yes or no, and a
declined consent is kept as such."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.language import texts
from bot.messages import Action, Button, Input, OutgoingMessage, Press, Start, Tap
from storage.database import clock_now


def consent_prompt() -> OutgoingMessage:
    return OutgoingMessage(
        str(texts.CONSENT),
        (
            (Button(str(texts.CONSENT_YES), Press(Action.CONSENT, option=1)),),
            (Button(str(texts.CONSENT_NO), Press(Action.CONSENT, option=0)),),
        ),
    )


def consent_step(turn: Turn, incoming: Input) -> bool:
    """True once consent is given now; otherwise the reply asks (again) or says goodbye."""
    participant = turn.participant
    if isinstance(incoming, Tap) and incoming.press.action is Action.CONSENT:
        agreed = incoming.press.option == 1
        turn.confirm(texts.CONSENT, texts.CONSENT_YES if agreed else texts.CONSENT_NO)
        if agreed:
            participant.consent_given_at = clock_now(turn.session)
            participant.consent_version = texts.CONSENT_VERSION
            participant.consent_declined_at = None
            return True
        participant.consent_declined_at = clock_now(turn.session)
        turn.say(texts.CONSENT_DECLINED)
        return False
    if not isinstance(incoming, Start):
        turn.say(texts.PRESS_A_BUTTON)
    turn.reply.messages.append(consent_prompt())
    turn.retire_prompt()
    return False
