"""What every part of the conversation works with: the setup shared by all turns, one turn (a
person's input, their row and the reply being built) and the shape of a side conversation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import DangerScreen
from bot.language import Catalogs, QuestionAudio
from bot.messages import Button, Input, OutgoingMessage, Reply
from bot.programmes import Programme, Questionnaire
from storage.models import Participant


@dataclass(frozen=True)
class EngineConfig:
    default_language: str
    default_programme: str | None
    max_text_length: int
    voice_dir: Path  # where downloaded voice answers are kept (VOICE_STORAGE_DIR)


@dataclass
class ConversationSetup:
    """The data and configuration every turn reads. Core swaps `programmes` and `audio` when
    an admin changes a programme; a turn reads them as they are when it starts."""

    questionnaires: dict[str, Questionnaire]
    programmes: dict[str, Programme]
    catalogs: Catalogs
    config: EngineConfig
    secret: bytes  # the keyed hash of anonymous answers (bot.people.respondent_key)
    danger: DangerScreen
    audio: QuestionAudio = field(default_factory=lambda: QuestionAudio({}))


@dataclass
class Turn:
    """One input of one person: their row, the open database session and the reply that the
    channel sends once the session is committed."""

    setup: ConversationSetup
    session: AsyncSession
    participant: Participant
    reply: Reply
    # Whether the channel can take a voice message as an answer (the terminal cannot): only
    # then does a free-text question offer it.
    voice_answers: bool = True

    @property
    def programme(self) -> Programme:
        """The definition of the programme the person has joined."""
        assert self.participant.programme is not None
        return self.setup.programmes[self.participant.programme.code]

    def say(self, text: object, *rows: tuple[Button, ...]) -> None:
        """A new message after the others of this turn, with buttons in `rows`."""
        self.reply.messages.append(OutgoingMessage(str(text), tuple(rows)))

    def confirm(self, question: object, chosen: object) -> None:
        """The message whose button was pressed shows what was chosen, without its buttons."""
        self.reply.edit = OutgoingMessage(f"{question}\n\n✓ {chosen}")

    def retire_prompt(self) -> None:
        """The buttons of the person's last prompt go: this turn asks something else."""
        self.reply.retire_prompt_id = self.participant.prompt_message_id


class SideConversation(Protocol):
    """A short exchange beside the questionnaire (change the language, talk to a person, …).
    The engine offers every input to each side conversation in turn; the first that claims
    it answers, and the survey runner goes on with what `reply` hands back."""

    def claims(self, participant: Participant, incoming: Input) -> bool:
        """Whether this input belongs to this side conversation."""
        ...

    async def reply(self, turn: Turn, incoming: Input) -> Input | None:
        """Answer the input. Returns the input the survey runner takes next (usually
        `Start(fresh=True)`: the open question again), or None when the turn ends here."""
        ...
