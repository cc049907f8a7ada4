"""Voice, for people who do not read: recorded questions sent with the text, and voice
messages accepted as answers to free-text questions.

Recorded questions live in a programme's audio folder (`audio:` in its YAML), one OGG/Opus file
per language and question: `<folder>/<language>/<questionnaire id>/<question id>.ogg`. A
missing file means the question goes out as text only. Voice answers are stored as the
channel's file id, their length and the name of the downloaded file in VOICE_STORAGE_DIR.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.messages import Voice
from bot.programmes import Programme, Questionnaire, QuestionType

AUDIO_SUFFIX = ".ogg"


def voice_answer(voice: Voice) -> dict[str, Any]:
    """The stored value of a voice answer."""
    return {
        "voice": {
            "file_id": voice.file_id,
            "duration": voice.duration,
            "file": f"{voice.unique_id}{AUDIO_SUFFIX}",
        }
    }


def voice_of(value: object) -> dict[str, Any] | None:
    """The voice part of a stored answer, or None for any other answer."""
    if not isinstance(value, dict):
        return None
    voice = value.get("voice")
    return dict(voice) if isinstance(voice, dict) else None


def delete_voice_files(values: Iterable[object], directory: Path) -> int:
    """Remove the downloaded files of these answers (erasure); returns how many were there."""
    removed = 0
    for value in values:
        voice = voice_of(value)
        if voice is None or not voice.get("file"):
            continue
        path = directory / Path(str(voice["file"])).name  # never outside the folder
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


@dataclass(frozen=True)
class QuestionAudio:
    """The recorded questions found at start-up: (programme, language, questionnaire, question)
    to file."""

    files: Mapping[tuple[str, str, str, str], Path]

    @classmethod
    def scan(cls, programmes: Mapping[str, Programme]) -> QuestionAudio:
        files = {}
        for programme in programmes.values():
            if programme.audio is None or not programme.audio.is_dir():
                continue
            for path in programme.audio.glob(f"*/*/*{AUDIO_SUFFIX}"):
                language, questionnaire_id = path.parent.parent.name, path.parent.name
                files[(programme.code, language, questionnaire_id, path.stem)] = path
        return cls(files)

    def path(
        self, programme: str, language: str, questionnaire_id: str, question_id: str
    ) -> Path | None:
        return self.files.get((programme, language, questionnaire_id, question_id))

    def missing(
        self, programme: Programme, questionnaires: Mapping[str, Questionnaire]
    ) -> dict[str, list[str]]:
        """Per language of the programme, `questionnaire/question` ids without a recording."""
        used = sorted(programme.questionnaire_ids())
        return {
            language: [
                f"{questionnaire_id}/{question.id}"
                for questionnaire_id in used
                for question in questionnaires[questionnaire_id].questions
                if self.path(programme.code, language, questionnaire_id, question.id) is None
            ]
            for language in programme.languages
        }


def accepts_voice(question_type: QuestionType) -> bool:
    return question_type is QuestionType.TEXT
