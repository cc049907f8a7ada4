"""Whether a new run of a questionnaire is anonymous: the programme decides, or lets the person
choose with their name or without."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.language import texts
from bot.messages import Action, Button, Input, Press, Tap
from bot.programmes import Anonymity, Programme
from storage.models import Contact

WITH_NAME, WITHOUT_NAME = 1, 0  # the options of Action.ANONYMITY


def anonymity_for(
    turn: Turn, programme: Programme, contact: Contact, incoming: Input
) -> bool | None:
    """Whether the new run is anonymous; None while the person has not chosen yet."""
    mode = programme.anonymity_of(contact.questionnaire_id)
    if mode is not Anonymity.RESPONDENT_CHOOSES:
        return mode is Anonymity.ANONYMOUS
    if isinstance(incoming, Tap) and incoming.press.action is Action.ANONYMITY:
        anonymous = incoming.press.option == WITHOUT_NAME
        turn.confirm(texts.CHOOSE_ANONYMITY, texts.WITHOUT_NAME if anonymous else texts.WITH_NAME)
        return anonymous
    turn.say(
        texts.CHOOSE_ANONYMITY,
        (Button(str(texts.WITH_NAME), Press(Action.ANONYMITY, option=WITH_NAME)),),
        (Button(str(texts.WITHOUT_NAME), Press(Action.ANONYMITY, option=WITHOUT_NAME)),),
    )
    turn.retire_prompt()
    return None
