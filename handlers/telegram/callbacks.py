"""Typed callback data: short ids only, never text (Telegram allows 64 bytes).

Callback data comes back from the person's app and may be forged, so every field is bounded
here: a press that does not parse is a malformed one (the fallback router), never a number the
database or the engine cannot take.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery
from pydantic import BeforeValidator, Field

from bot.messages import Action, Press

MAX_ID = 2**31 - 1  # runs, contacts and flags have INTEGER ids: 32 bits on PostgreSQL
MAX_INDEX = 999  # a question's position in its questionnaire
FLAG_ACTIONS = frozenset(
    {Action.TAKE_FLAG, Action.RESOLVE_FLAG, Action.OPEN_FLAG, Action.REPLY_FLAG}
)


def _plain_number(value: object) -> object:
    """Only the digits `pack` writes: no sign, spaces, underscores, decimal point or exponent."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise ValueError("not a plain non-negative number")  # pydantic reports a ValueError
    return value


Id = Annotated[int, BeforeValidator(_plain_number), Field(ge=0, le=MAX_ID)]
Index = Annotated[int, BeforeValidator(_plain_number), Field(ge=0, le=MAX_INDEX)]


class SurveyTap(CallbackData, prefix="s"):
    a: Action
    r: Id  # a run's id, 0 when none
    q: Index
    o: Id  # an option's position, or a contact's or flag's id

    @classmethod
    def of(cls, press: Press) -> SurveyTap:
        return cls(a=press.action, r=press.run, q=press.question, o=press.option)

    def press(self) -> Press:
        return Press(action=self.a, run=self.r, question=self.q, option=self.o)


def names_flag_action(data: str | None) -> bool:
    """Whether the data is meant for a coordinator's flag button, even if it does not parse."""
    prefix, _, rest = (data or "").partition(SurveyTap.__separator__)
    return prefix == SurveyTap.__prefix__ and rest.split(SurveyTap.__separator__)[0] in FLAG_ACTIONS


def from_own_chat(callback: CallbackQuery) -> bool:
    """The press was on a message of the presser's own private chat with the bot: the only
    chats the bot talks in. Any other (a group, someone else's chat, an inline message) is
    refused before a router acts on it."""
    message = callback.message
    return (
        message is not None
        and message.chat.type == "private"
        and message.chat.id == callback.from_user.id
    )
