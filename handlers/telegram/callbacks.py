"""Typed callback data: short ids only, never text (Telegram allows 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.messages import Action, Press


class SurveyTap(CallbackData, prefix="s"):
    a: Action
    r: int
    q: int
    o: int

    @classmethod
    def of(cls, press: Press) -> SurveyTap:
        return cls(a=press.action, r=press.run, q=press.question, o=press.option)

    def press(self) -> Press:
        return Press(action=self.a, run=self.r, question=self.q, option=self.o)
