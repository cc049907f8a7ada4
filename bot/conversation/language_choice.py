"""The person's language: chosen first of all when they join (the request in every language
the programme offers), and changed at any time with `/language`."""

from __future__ import annotations

from bot.conversation.consent import consent_prompt
from bot.conversation.turn import Turn
from bot.language import Catalogs, language_name, texts
from bot.messages import Action, Button, ChooseLanguage, Input, OutgoingMessage, Press, Start, Tap
from bot.programmes import Programme
from storage.models import Participant

LANGUAGES_IN_ONE_COLUMN = 6


def language_menu(catalogs: Catalogs, languages: list[str], likely: str) -> OutgoingMessage:
    # The request is shown in every offered language: the person may read none of the others.
    ordered = sorted(languages, key=lambda code: code != likely)
    lines = dict.fromkeys(catalogs.gettext(code, texts.CHOOSE_LANGUAGE.message) for code in ordered)
    buttons = [
        Button(language_name(code), Press(Action.LANGUAGE, option=languages.index(code)))
        for code in ordered
    ]
    # Two a row once the list is long, so that it fits a phone's screen.
    width = 1 if len(buttons) <= LANGUAGES_IN_ONE_COLUMN else 2
    keyboard = tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
    return OutgoingMessage("\n".join(lines), keyboard)


def chosen_language(languages: list[str], incoming: Input) -> str | None:
    """The language whose button was tapped, if the input is such a tap."""
    if not isinstance(incoming, Tap) or incoming.press.action is not Action.LANGUAGE:
        return None
    option = incoming.press.option
    return languages[option] if 0 <= option < len(languages) else None


def first_language(turn: Turn, programme: Programme, incoming: Input) -> None:
    """Before anything else: the language menu, until a language is tapped."""
    languages = list(programme.languages)
    language = chosen_language(languages, incoming)
    if language is not None:
        turn.participant.language = language
        with turn.setup.catalogs.use(language):
            turn.confirm(texts.CHOOSE_LANGUAGE, language_name(language))
        return
    if not isinstance(incoming, Start | ChooseLanguage):
        turn.say(texts.PRESS_A_BUTTON)
    turn.reply.messages.append(language_menu(turn.setup.catalogs, languages, turn.reply.language))


class LanguageSwitch:
    """`/language`, or a tap on its menu, once a first language was chosen. The current
    question comes again in the new language."""

    def claims(self, participant: Participant, incoming: Input) -> bool:
        if participant.language is None or participant.programme is None:
            return False
        if isinstance(incoming, Tap):
            return incoming.press.action is Action.LANGUAGE
        return isinstance(incoming, ChooseLanguage)

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        participant = turn.participant
        assert participant.language is not None
        languages = list(turn.programme.languages)
        if not isinstance(incoming, Tap):
            # The menu is the live message now; the question comes again after the choice.
            menu = language_menu(turn.setup.catalogs, languages, participant.language)
            turn.reply.messages.append(menu)
            turn.retire_prompt()
            return None
        language = chosen_language(languages, incoming)
        if language is None:
            turn.say(texts.NOT_UNDERSTOOD)
            return None
        participant.language = turn.reply.language = language
        with turn.setup.catalogs.use(language):
            turn.confirm(texts.CHOOSE_LANGUAGE, language_name(language))
            if participant.consent_given_at is None:
                turn.reply.messages.append(consent_prompt())
                return None
        return Start(fresh=True)
