"""Documented Bot API limits that the JSON spec alone does not express.

The spec knows that ``text`` is a string; it does not know that Telegram refuses an empty or a
4097-character text, a 65-byte ``callback_data``, an inline button with no action, or HTML with
an unescaped ``<``. These are exactly the mistakes a multilingual bot makes (Arabic and Cyrillic
fill 64 bytes fast; a participant's answer echoed back may contain ``<``), so the fake enforces
them with the error texts Telegram uses where those are known.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
CALLBACK_DATA_LIMIT = 64
INLINE_KEYBOARD_BUTTON_LIMIT = 100

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
"""Fields of InlineKeyboardButton of which exactly one must be set."""

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][\w-]*)"
    r"((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class BotAPIError(Exception):
    """An error answer of the fake server, shaped like Telegram's.

    ``violation`` says whether the call broke the API contract (and so belongs in
    ``FakeBotAPI.violations``) as opposed to an error a correct bot must merely cope with, such as
    an injected 429 or a user who blocked the bot. ``detail`` adds context for the violation log
    that Telegram itself would not give.
    """

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        violation: bool = True,
        detail: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.violation = violation
        self.detail = detail
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str, *, detail: str | None = None) -> BotAPIError:
    """A 400 that is a contract violation (the common case)."""
    return BotAPIError(400, f"Bad Request: {description}", detail=detail)


@dataclass(frozen=True)
class RenderedText:
    """What a participant would see, plus a key for the formatting applied to it.

    ``formatting`` lets the "message is not modified" check notice a change of bold or links
    even when the visible characters stay the same.
    """

    text: str
    formatting: tuple[Any, ...] = ()


def telegram_length(text: str) -> int:
    """Length as Telegram measures entity offsets (UTF-16 code units).

    This is the stricter reading of "characters": an emoji outside the BMP counts twice, so a
    text accepted here is accepted by Telegram.
    """
    return len(text.encode("utf-16-le")) // 2


def render(source: str, parse_mode: str | None) -> RenderedText:
    """Parse ``source`` as Telegram would for ``parse_mode`` and strip surrounding whitespace.

    HTML is parsed strictly (supported tags only, balanced, ``<`` and ``&`` escaped) because a
    bot echoing a participant's text into an HTML message is a classic production failure.
    Markdown modes are passed through unparsed: the fake does not model their escaping rules.
    """
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _render_html(source)
    if mode.startswith("markdown"):
        return RenderedText(source.strip(), ("markdown", source))
    return RenderedText(source.strip())


def _render_html(source: str) -> RenderedText:
    def offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    visible: list[str] = []
    formatting: list[tuple[str, int]] = []
    open_tags: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "<":
            match = _TAG_RE.match(source, index)
            name = match.group(2).lower() if match else ""
            if match is None or name not in _HTML_TAGS:
                shown = name or source[index + 1 : index + 6]
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{shown}" '
                    f"at byte offset {offset(index)}"
                )
            if match.group(1):
                if not open_tags or open_tags[-1] != name:
                    raise bad_request(
                        f'can\'t parse entities: Unexpected end tag "{name}" '
                        f"at byte offset {offset(index)}"
                    )
                open_tags.pop()
            else:
                open_tags.append(name)
            formatting.append((match.group(0), len("".join(visible))))
            index = match.end()
        elif char == "&":
            match = _ENTITY_RE.match(source, index)
            if match is None:
                raise bad_request(
                    "can't parse entities: unescaped '&' (use &amp;) "
                    f"at byte offset {offset(index)}"
                )
            visible.append(html.unescape(match.group(0)))
            index = match.end()
        else:
            visible.append(char)
            index += 1
    if open_tags:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{open_tags[-1]}"'
        )
    return RenderedText("".join(visible).strip(), tuple(formatting))


def check_message_text(source: str | None, parse_mode: str | None) -> RenderedText:
    """Enforce the 1-4096 character limit of a message text (after parsing and stripping)."""
    rendered = render(source or "", parse_mode)
    if not rendered.text:
        raise bad_request("message text is empty")
    length = telegram_length(rendered.text)
    if length > TEXT_LIMIT:
        raise bad_request(
            "message is too long", detail=f"{length} characters, the limit is {TEXT_LIMIT}"
        )
    return rendered


def check_caption(source: str | None, parse_mode: str | None) -> RenderedText | None:
    """Enforce the 0-1024 character limit of a media caption."""
    if source is None:
        return None
    rendered = render(source, parse_mode)
    length = telegram_length(rendered.text)
    if length > CAPTION_LIMIT:
        raise bad_request(
            "message caption is too long",
            detail=f"{length} characters, the limit is {CAPTION_LIMIT}",
        )
    return rendered if rendered.text else None


def check_callback_answer_text(text: str | None) -> None:
    """answerCallbackQuery shows at most 200 characters in its notification."""
    if text is not None and telegram_length(text) > CALLBACK_ANSWER_LIMIT:
        raise bad_request(
            "MESSAGE_TOO_LONG",
            detail=f"callback answer of {telegram_length(text)} characters, "
            f"the limit is {CALLBACK_ANSWER_LIMIT}",
        )


def check_reply_markup(markup: Any, *, inline_only: bool) -> None:
    """Semantic checks of a reply_markup that already matched the spec's shape."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif inline_only:
        raise bad_request(
            "inline keyboard expected", detail=f"only InlineKeyboardMarkup can be edited: {markup}"
        )
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("remove_keyboard must be true")
    elif "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request("force_reply must be true")
    else:
        raise bad_request("can't parse reply keyboard markup JSON object", detail=str(markup))


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Array')
    buttons = [button for row in rows for button in row]
    if len(buttons) > INLINE_KEYBOARD_BUTTON_LIMIT:
        raise bad_request(
            "reply markup is too long",
            detail=f"{len(buttons)} buttons, the limit is {INLINE_KEYBOARD_BUTTON_LIMIT}",
        )
    for button in buttons:
        if not isinstance(button, dict) or not str(button.get("text", "")).strip():
            raise bad_request("BUTTON_TEXT_INVALID", detail=f"button without text: {button}")
        actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
        if not actions:
            raise bad_request(
                "text buttons are unallowed in the inline keyboard",
                detail=f"button {button['text']!r} has none of {', '.join(INLINE_BUTTON_ACTIONS)}",
            )
        if len(actions) > 1:
            raise bad_request(
                "can't parse inline keyboard button: exactly one action field must be used",
                detail=f"button {button['text']!r} sets {', '.join(actions)}",
            )
        if "callback_data" in button:
            _check_callback_data(button["text"], button["callback_data"])
        if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID", detail=f"url {button['url']!r}")


def _check_callback_data(label: str, data: Any) -> None:
    size = len(str(data).encode("utf-8"))
    if not isinstance(data, str) or not 1 <= size <= CALLBACK_DATA_LIMIT:
        raise bad_request(
            "BUTTON_DATA_INVALID",
            detail=f"button {label!r}: callback_data {data!r} is {size} bytes in UTF-8, "
            f"allowed 1-{CALLBACK_DATA_LIMIT}",
        )


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "keyboard" must be an Array of Array')
    for button in (button for row in rows for button in row):
        text = button.get("text") if isinstance(button, dict) else button
        if not isinstance(text, str) or not text.strip():
            raise bad_request("BUTTON_TEXT_INVALID", detail=f"keyboard button {button!r}")


def inline_markup_of(markup: Any) -> dict[str, Any] | None:
    """The markup a Message object carries: only a non-empty inline keyboard is kept.

    Telegram returns no ``reply_markup`` for reply keyboards or an empty inline keyboard, and
    treats "no keyboard" and "empty keyboard" as the same content when judging an edit.
    """
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None
