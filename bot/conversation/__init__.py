"""The conversation with a mentee or mentor: the survey runner that takes one step of a
questionnaire, and the side conversations plugged in beside it."""

from __future__ import annotations

from bot.conversation.engine import SurveyEngine
from bot.conversation.turn import EngineConfig

__all__ = ["EngineConfig", "SurveyEngine"]
