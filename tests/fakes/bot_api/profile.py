"""The bot's own profile: who it is (getMe) and its command menus (setMyCommands and kin)."""

from __future__ import annotations

import copy
import re

from ..bot_api_checks import bad_request, telegram_length
from .records import JSON

_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class BotProfile:
    """The part of ``FakeBotAPI`` that answers getMe and keeps the bot's commands.

    ``commands`` holds the menus set by setMyCommands, by (scope type, language code).
    """

    token: str | None  # provided by FakeBotAPI: the last token seen

    def _init_profile(self, first_name: str, username: str) -> None:
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self._bot_first_name = first_name
        self._bot_username = username

    @property
    def bot_user(self) -> JSON:
        """The bot's own ``User``; its id is the numeric part of the token, as in Telegram."""
        prefix = (self.token or "").partition(":")[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": self._bot_first_name,
            "username": self._bot_username,
        }

    # ------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands", detail=f"{len(commands)}, the limit is 100")
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID", detail=repr(command["command"]))
            if not 1 <= telegram_length(command["description"]) <= 256:
                raise bad_request(
                    "BOT_COMMAND_DESCRIPTION_INVALID", detail=repr(command["description"])
                )
        self.commands[_commands_key(params)] = copy.deepcopy(commands)
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(_commands_key(params), []))


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return str(scope.get("type")), str(params.get("language_code") or "")
