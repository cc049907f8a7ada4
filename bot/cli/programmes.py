"""The programmes and what participants get from them: each programme as the database holds it,
the recorded questions still missing, and how easy the texts are to read."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import yaml

from bot.cli.common import add_group, local, print_table, run_with_core
from bot.core import Core, load_content
from bot.language import QuestionAudio, distribution, participant_texts
from bot.programmes import programme_definition, programme_edits
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_programmes(commands: Commands) -> None:
    programme_commands = add_group(
        commands, "programmes", "programmes as the database holds them (dashboard changes included)"
    )
    programme_list = programme_commands.add_parser("list", help="every programme and its codes")
    programme_list.set_defaults(handler=cmd_programmes)
    programme_export = programme_commands.add_parser(
        "export", help="a programme as YAML, in the shape of a programme file"
    )
    programme_export.add_argument("code", help="the programme's code")
    programme_export.add_argument("--to", type=Path, help="write to this file, not the screen")
    programme_export.set_defaults(handler=cmd_programmes)


def cmd_programmes(settings: Settings, args: argparse.Namespace) -> int:
    """The programmes as the database holds them (a dashboard change included)."""

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            if args.programmes_command == "list":
                edited = await programme_edits(session)
                print_table(
                    ["code", "mentor code", "name", "languages", "changed in the dashboard"],
                    [
                        (p.code, p.mentor_code or "", p.name, " ".join(p.languages),
                         local(edited.get(p.code), ZoneInfo(settings.timezone)))
                        for p in core.programmes.values()
                    ],
                )  # fmt: skip
                return 0
            definition = await programme_definition(session, args.code)
        if definition is None:
            raise SettingsError(f"no programme '{args.code}' (see `python -m bot programmes list`)")
        text = yaml.safe_dump(definition, allow_unicode=True, sort_keys=False)
        if args.to is None:
            print(text, end="")
        else:
            args.to.write_text(text, encoding="utf-8")
            print(f"programme '{args.code}' written to {args.to}")
        return 0

    return run_with_core(settings, args.clock, work)


def add_audio(commands: Commands) -> None:
    audio_commands = add_group(commands, "audio", "recorded questions (voice notes)")
    missing = audio_commands.add_parser(
        "missing", help="per language, the questions that have no recording yet"
    )
    missing.add_argument("--programme", help="programme code (default: all)")
    missing.set_defaults(handler=cmd_audio_missing)


def cmd_audio_missing(settings: Settings, args: argparse.Namespace) -> int:
    _, questionnaires, programmes = load_content(settings)
    chosen = [p for p in programmes.values() if args.programme in (None, p.code)]
    if not chosen:
        raise SettingsError(f"--programme: no programme '{args.programme}'")
    audio = QuestionAudio.scan(programmes)
    for programme in chosen:
        if programme.audio is None:
            print(f"{programme.code}: no audio folder (set 'audio:' in its YAML); text only")
            continue
        print(f"{programme.code}: recordings in {programme.audio}")
        for language, missing in audio.missing(programme, questionnaires).items():
            total = sum(len(questionnaires[q].questions) for q in programme.questionnaire_ids())
            print(f"{language}: {len(missing)} of {total} questions have no recording")
            for item in missing:
                print(f"  {item}")
    return 0


def add_readability(commands: Commands) -> None:
    readability = commands.add_parser(
        "readability",
        help="how easy the participants' texts are to read, per language (a Markdown table)",
    )
    readability.set_defaults(handler=cmd_readability)


def cmd_readability(settings: Settings, _args: argparse.Namespace) -> int:
    catalogs, questionnaires, programmes = load_content(settings)
    sources = participant_texts(questionnaires, programmes)
    rows = {language: distribution(catalogs, sources, language) for language in catalogs.languages}
    columns = list(next(iter(rows.values())))
    print("| language | " + " | ".join(columns) + " |")
    print("| --- " * (len(columns) + 1) + "|")
    for language, row in rows.items():
        print(f"| {language} | " + " | ".join(row[column] for column in columns) + " |")
    return 0
