"""Programmes as data: `programmes/*.yaml` (name, deep-link code, languages, questionnaires)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.questionnaire import Questionnaire


class ProgrammeError(Exception):
    """A programme file is broken or refers to something that does not exist."""


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Telegram deep-link payloads allow A-Z, a-z, 0-9, _ and -, up to 64 characters.
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str
    languages: tuple[str, ...] = Field(min_length=1)
    intake: dict[str, str] = Field(description="role -> questionnaire id")

    @model_validator(mode="after")
    def _mentee_intake(self) -> Programme:
        if "mentee" not in self.intake:
            raise ValueError("field 'intake' needs a 'mentee' questionnaire")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("field 'languages' lists a language twice")
        return self


def load_programmes(
    directory: Path, questionnaires: dict[str, Questionnaire], languages: list[str]
) -> dict[str, Programme]:
    """Load every programme and check that its questionnaires and languages exist."""
    programmes: dict[str, Programme] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            programme = Programme.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as error:
            if isinstance(error, ValidationError):
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "(file)"
                detail = f"field '{where}': {first['msg'].removeprefix('Value error, ')}"
            else:
                detail = f"not valid YAML: {error}"
            raise ProgrammeError(f"{path.name}: {detail}") from None
        for role, questionnaire_id in programme.intake.items():
            if questionnaire_id not in questionnaires:
                raise ProgrammeError(
                    f"{path.name}: field 'intake.{role}': no questionnaire '{questionnaire_id}'"
                )
        missing = [language for language in programme.languages if language not in languages]
        if missing:
            raise ProgrammeError(f"{path.name}: field 'languages': no catalog for {missing}")
        if programme.code.lower() in {code.lower() for code in programmes}:
            raise ProgrammeError(f"{path.name}: field 'code': '{programme.code}' is used twice")
        programmes[programme.code] = programme
    if not programmes:
        raise ProgrammeError(f"{directory}: no programme files (*.yaml)")
    return programmes
