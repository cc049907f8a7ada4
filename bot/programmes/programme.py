"""Programmes as data: `programmes/*.yaml` (name, deep-link code, languages, questionnaires)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
import yaml
from phonenumbers import shortnumberinfo
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.programmes.matching import MatchingRules, matching_problem
from bot.programmes.questionnaire import SAFE_LOADER, Questionnaire
from bot.programmes.schedule import ProgrammeSchedule

ROLES = ("mentee", "mentor")


class Anonymity(StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonymous"
    RESPONDENT_CHOOSES = "respondent_chooses"


DEFAULT_COUNTRY = "DK"  # the programmes this was made for are Danish


class ProgrammeError(Exception):
    """A programme file is broken or refers to something that does not exist."""


class HelpLine(BaseModel):
    """Where to get help now, shown to someone whose answer suggests danger."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    number: str  # a phone number of the programme's country (short ones too), or an https link


def is_help_line_number(number: str, country: str) -> bool:
    """A number a person in `country` can call (a full one, or a valid short one such as 112
    or 1888, per Google's libphonenumber), or an https link; nothing else reaches a person in
    danger (a typo, a `javascript:` link)."""
    number = number.strip()
    if number.lower().startswith("https://"):
        return bool(urlsplit(number).hostname) and not any(c.isspace() for c in number)
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) or shortnumberinfo.is_valid_short_number(parsed)


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Telegram deep-link payloads allow A-Z, a-z, 0-9, _ and -, up to 64 characters.
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    mentor_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str
    languages: tuple[str, ...] = Field(min_length=1)
    timezone: str | None = None
    intake: dict[str, str] = Field(description="role -> questionnaire id")
    anonymity: dict[str, Anonymity] = Field(
        default_factory=dict, description="questionnaire id -> mode; unlisted ones are named"
    )
    schedule: ProgrammeSchedule = Field(default_factory=ProgrammeSchedule)
    # What the bot promises someone who asks to talk to a person: keep it true.
    coordinator_reply_days: int = Field(default=2, ge=1, le=14)
    # Local emergency and help-line numbers; labels are translated like questions.
    help_lines: tuple[HelpLine, ...] = Field(min_length=1)
    # The country (ISO 3166 code) whose phone numbers the help lines are.
    country: str = DEFAULT_COUNTRY
    # Recorded questions: <audio>/<language>/<questionnaire id>/<question id>.ogg, relative to
    # the programme file (see bot/language/voice.py).
    audio: Path | None = None
    # How mentors are suggested for a waiting mentee (bot/programmes/matching.py).
    matching: MatchingRules = Field(default_factory=MatchingRules)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (KeyError, ValueError):
                raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown country '{value}': use a code like DK")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        for line in self.help_lines:
            if not is_help_line_number(line.number, self.country):
                raise ValueError(
                    f"help line '{line.label}': '{line.number}' is neither a phone number of "
                    f"{self.country} nor an https link"
                )
        if "mentee" not in self.intake:
            raise ValueError("field 'intake' needs a 'mentee' questionnaire")
        unknown_roles = set(self.intake) - set(ROLES)
        if unknown_roles:
            raise ValueError(f"field 'intake': unknown roles {sorted(unknown_roles)}")
        if "mentor" in self.intake and not self.mentor_code:
            raise ValueError("field 'mentor_code' is needed for the mentor intake")
        if self.mentor_code and self.mentor_code.lower() == self.code.lower():
            raise ValueError("field 'mentor_code' must differ from 'code'")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("field 'languages' lists a language twice")
        for questionnaire_id in self.intake.values():
            if self.anonymity_of(questionnaire_id) is not Anonymity.NAMED:
                raise ValueError(
                    f"field 'anonymity': the intake '{questionnaire_id}' must be named"
                )
        return self

    def anonymity_of(self, questionnaire_id: str) -> Anonymity:
        return self.anonymity.get(questionnaire_id, Anonymity.NAMED)

    def role_for_code(self, code: str) -> str | None:
        if code.lower() == self.code.lower():
            return "mentee"
        if self.mentor_code and code.lower() == self.mentor_code.lower():
            return "mentor"
        return None

    def questionnaire_ids(self) -> set[str]:
        used = set(self.intake.values()) | set(self.anonymity)
        for rules in self.schedule.rules.values():
            used |= {rule.questionnaire for rule in rules}
        for trigger in self.schedule.triggers:
            used |= {trigger.watch, trigger.send}
        return used


def _field_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(file)"
    return f"field '{where}': {first['msg'].removeprefix('Value error, ')}"


def check_programme(
    data: object,
    where: str,
    questionnaires: dict[str, Questionnaire],
    languages: list[str],
    base_dir: Path,
) -> Programme:
    """The programme a definition describes, if it is whole and refers only to questionnaires
    and languages that exist; `where` names it in the one-line error (a file name, or a
    programme edited in the dashboard). A relative `audio` folder is taken from `base_dir`."""
    try:
        programme = Programme.model_validate(data)
    except ValidationError as error:
        raise ProgrammeError(f"{where}: {_field_error(error)}") from None
    for role, questionnaire_id in programme.intake.items():
        if questionnaire_id not in questionnaires:
            raise ProgrammeError(
                f"{where}: field 'intake.{role}': no questionnaire '{questionnaire_id}'"
            )
    intakes = {role: questionnaires[qid] for role, qid in programme.intake.items()}
    matching = matching_problem(programme.matching, intakes)
    if matching:
        raise ProgrammeError(f"{where}: {matching}")
    missing_surveys = sorted(programme.questionnaire_ids() - set(questionnaires))
    if missing_surveys:
        raise ProgrammeError(
            f"{where}: field 'schedule': no questionnaire {missing_surveys} "
            "(the default schedule needs them unless the programme sets its own)"
        )
    for role in programme.schedule.rules:
        if role not in ROLES:
            raise ProgrammeError(f"{where}: field 'schedule.rules': unknown role '{role}'")
    for index, trigger in enumerate(programme.schedule.triggers):
        watched = questionnaires[trigger.watch]
        for question_id, values in trigger.when.items():
            known = {q.id: q.choice_ids for q in watched.questions}
            if question_id not in known or not set(values) <= set(known[question_id]):
                raise ProgrammeError(
                    f"{where}: field 'schedule.triggers.{index}.when': "
                    f"'{trigger.watch}' has no question '{question_id}' with answers {values}"
                )
    if programme.audio is not None:
        folder = (base_dir / programme.audio).resolve()
        if not folder.is_dir():
            raise ProgrammeError(f"{where}: field 'audio': no folder {folder}")
        programme = programme.model_copy(update={"audio": folder})
    missing = [language for language in programme.languages if language not in languages]
    if missing:
        raise ProgrammeError(f"{where}: field 'languages': no catalog for {missing}")
    return programme


def check_codes_unique(programmes: dict[str, Programme], programme: Programme, where: str) -> None:
    """A deep-link code leads to one programme only, whatever its case; `programmes` are the
    others."""
    taken = {code.lower() for p in programmes.values() for code in (p.code, p.mentor_code) if code}
    for field, code in (("code", programme.code), ("mentor_code", programme.mentor_code)):
        if code and code.lower() in taken:
            raise ProgrammeError(f"{where}: field '{field}': '{code}' is used twice")


def read_programme_files(directory: Path) -> dict[str, dict[str, object]]:
    """Each programme file's data by file name, as written (checked by `check_programme`)."""
    files: dict[str, dict[str, object]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except yaml.YAMLError as error:
            raise ProgrammeError(f"{path.name}: not valid YAML: {error}") from None
        if not isinstance(data, dict):
            raise ProgrammeError(f"{path.name}: field '(file)': not a mapping of fields")
        files[path.name] = data
    return files


def load_programmes(
    directory: Path, questionnaires: dict[str, Questionnaire], languages: list[str]
) -> dict[str, Programme]:
    """Load every programme file and check that its questionnaires and languages exist."""
    programmes: dict[str, Programme] = {}
    for name, data in read_programme_files(directory).items():
        programme = check_programme(data, name, questionnaires, languages, directory)
        check_codes_unique(programmes, programme, name)
        programmes[programme.code] = programme
    if not programmes:
        raise ProgrammeError(f"{directory}: no programme files (*.yaml)")
    return programmes
