"""What the engine receives from a channel and what it hands back: channel-neutral values; and
the outbox through which a channel sends them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class Action(StrEnum):
    """What a button does. The one-letter values travel in callback data (64-byte limit)."""

    LANGUAGE = "l"
    CONSENT = "c"
    CHOOSE = "o"
    TOGGLE = "t"
    DONE = "d"
    SKIP = "s"
    DECLINE = "p"  # "Prefer not to say"
    BACK = "b"
    NEXT = "n"
    OPEN = "r"  # start or resume a scheduled contact: `option` is the contact's id
    ANONYMITY = "a"  # option 1: with my name, 0: without
    ERASE = "e"  # option 1: yes, delete my data; 0: no
    TALK = "h"  # talk to a person: option 0 asks, 1 sends without words, 2 cancels
    CONTACT_ME = "k"  # after an anonymous answer that raised a flag: 1 contact me, 0 no
    WHY = "y"  # "Why do we ask?": the question again, with its explanation
    ANSWER_COORDINATOR = "w"  # option: the flag whose message is answered; 0 cancels
    TAKE_FLAG = "T"  # coordinators only: option is the flag's id
    RESOLVE_FLAG = "R"
    OPEN_FLAG = "O"
    REPLY_FLAG = "M"


@dataclass(frozen=True)
class Press:
    """A button press: short ids only, never text. `run` is 0 before any survey exists,
    `question` is the question's position in its questionnaire, `option` its answer's."""

    action: Action
    run: int = 0
    question: int = 0
    option: int = 0


@dataclass(frozen=True)
class Button:
    label: str
    press: Press


@dataclass(frozen=True)
class VoiceNote:
    """Audio sent before a message's text: a recorded question (a file of the programme) or a
    participant's voice answer, played back to a coordinator (the channel's file id)."""

    path: Path | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    # A message with buttons is the live prompt; the channel reports its id back to the engine
    # so that its buttons can be removed once it is answered.
    keyboard: tuple[tuple[Button, ...], ...] = ()
    voice: VoiceNote | None = None


@dataclass(frozen=True)
class Start:
    """`/start`, with the deep-link payload if the person came through a link."""

    payload: str | None = None
    fresh: bool = False  # a survey that just began: show its first question, no "welcome back"


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tap:
    press: Press


@dataclass(frozen=True)
class Voice:
    """A voice message: the channel's file id, a stable unique id (for the stored file's name)
    and its length in seconds."""

    file_id: str
    unique_id: str
    duration: int


@dataclass(frozen=True)
class MalformedTap:
    """A button press whose data could not be read (tampered, truncated, from an old version)."""


@dataclass(frozen=True)
class ShowMyData:
    """`/mydata`: everything stored about the person."""


@dataclass(frozen=True)
class AskToErase:
    """`/delete`: the person wants their data deleted (asked to confirm first)."""


@dataclass(frozen=True)
class ChooseLanguage:
    """`/language`: show the language menu; the choice applies at once, mid-survey too."""


@dataclass(frozen=True)
class AskForPerson:
    """`/help`: the person wants to talk to their coordinator."""


@dataclass(frozen=True)
class Unsupported:
    """A sticker, photo, voice note, location...: `kind` names it."""

    kind: str


Input = (
    Start
    | Text
    | Tap
    | MalformedTap
    | Unsupported
    | ShowMyData
    | AskToErase
    | AskForPerson
    | ChooseLanguage
    | Voice
)


@dataclass
class Reply:
    participant_id: int
    language: str
    # Replaces the message whose button was pressed: the next question (or the same one with
    # its new ticks), the summary of a finished survey, or what was chosen, without buttons.
    edit: OutgoingMessage | None = None
    # The edit is what the person reads next (a question, the summary), not a record of her
    # choice: a channel that cannot edit the pressed message shows it as a new message.
    edit_shows_next: bool = False
    messages: list[OutgoingMessage] = field(default_factory=list)
    # The message of an earlier prompt whose buttons must go (it was answered by typing).
    retire_prompt_id: int | None = None
    # Files to send after the messages: (file name, content).
    documents: list[tuple[str, bytes]] = field(default_factory=list)
    # Voice answers to keep: (the channel's file id, file name in VOICE_STORAGE_DIR). The channel
    # downloads them once the answer is committed.
    downloads: list[tuple[str, str]] = field(default_factory=list)


class Undeliverable(Exception):
    """The channel refused the message for good (the person blocked the bot, chat gone)."""


class ChannelError(Exception):
    """A channel could not start, or could not be checked: its message is one line that says
    what to do. A channel turns its framework's errors into this at its edge, so that the
    command line can end with that line instead of a traceback."""

    # Whether starting again later may work by itself (the network or the service was away),
    # rather than only after a setting is changed (a refused token).
    transient: bool = False


class ChannelUnreachable(ChannelError):
    """The channel's service could not be reached or failed (no network, 5xx)."""

    transient = True


class ChannelRefused(ChannelError):
    """The channel's service refused us: a setting is wrong (the token)."""


class Outbox(Protocol):
    """A channel's way to send a message to a person by their channel user id."""

    async def send(self, channel_user_id: str, message: OutgoingMessage) -> None: ...


def split_text(text: str, limit: int = 3500) -> list[str]:
    """Split a long text at line ends into messages a channel accepts (Telegram: 4096)."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines():
        if current and len(current) + len(line) + 1 > limit:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:limit]
    return [*parts, current] if current else parts
