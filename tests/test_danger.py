"""Danger screening: the shipped word lists catch plain, misspelled and mixed-language danger
signs, stay quiet on ordinary mentoring answers, and a broken list fails with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.coordination import CATEGORIES, DangerHit, DangerListError, DangerScreen
from bot.settings import PROJECT_ROOT

LISTS = PROJECT_ROOT / "locales" / "danger"


@pytest.fixture(scope="module")
def screen() -> DangerScreen:
    return DangerScreen.load(LISTS)


def categories(screen: DangerScreen, text: str, language: str) -> list[str]:
    return [hit.category for hit in screen.screen(text, language)]


# Examples for the other languages, written with their lists: per category, answers that must
# raise it, and ordinary mentoring answers that must raise nothing.
EXAMPLES = {
    path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted((Path(__file__).parent / "data" / "danger").glob("*.yaml"))
}


def test_shipped_lists_load_with_40_to_80_entries(screen: DangerScreen) -> None:
    assert set(screen.languages) == {"da", "en", *EXAMPLES}
    for language in screen.languages:
        lines = (LISTS / f"{language}.txt").read_text(encoding="utf-8").splitlines()
        entries = [line for line in lines if line.strip() and not line.startswith("#")]
        assert 40 <= len(entries) <= 80, language
        used = {line.partition(":")[0] for line in entries if not line.startswith("!")}
        assert used == set(CATEGORIES), language


ENGLISH_DANGER = {
    "suicide": [
        "I want to die",
        "sometimes I think I will kill myself",
        "i dont want to live anymore",
        "There is no reason to live for me here",
        "I wish I was dead",
        "my kids are better off without me, I want to end it all",
    ],
    "self_harm": [
        "I hurt myself when I am very sad",
        "I cut myself again last week",
        "i have been cutting myself",
        "I self-harm when it gets bad",
    ],
    "violence": [
        "He HITS me!!",
        "my husband hits me when he is angry",
        "he beat me yesterday",
        "I am afraid of my husband",
        "he threatens me and the children",
        "he said he will kill me if I leave",
        "hits me",
    ],
    "social_control": [
        "I am not allowed to go out alone",
        "my husband takes my money",
        "he takes my phone so I cannot call anyone",
        "they lock me in the flat when they go out",
        "my family wants me to marry, I was forced to marry my cousin",
        "it is about the honour of the family",
    ],
}

DANISH_DANGER = {
    "suicide": [
        "Jeg vil ikke leve mere",
        "jeg tænker tit på selvmord",
        "jeg vil draebe mig selv",
        "nogle gange vil jeg bare dø",
        "jeg har ingen grund til at leve",
        "jeg vil slaa mig selv ihjel",
        "nogle gange vil jeg ikke leve mere",
        "jeg vil kill myself",
    ],
    "self_harm": [
        "jeg skader mig selv når jeg er ked af det",
        "jeg skærer mig i armen",
        "jeg slaar mig selv",
        "jeg har lyst til at skade mig selv",
    ],
    "violence": [
        "min mand slår mig",
        "han slaar mig når han drikker",
        "han slar mig",
        "han slog mig i går",
        "jeg er bange for min mand",
        "han truer mig",
        "der er vold derhjemme",
        "han siger han vil slå mig ihjel",
        "Min mand hits me når han er vred",
    ],
    "social_control": [
        "jeg må ikke gå ud",
        "jeg maa ikke gaa ud alene",
        "jeg ma ikke ga ud",
        "derfor må jeg ikke gå ud uden ham",
        "han tager mine penge",
        "min mand tog min telefon",
        "de låser mig inde",
        "jeg blev tvunget til at gifte mig",
        "det handler om familiens ære",
        "han takes my phone hver dag",
    ],
}


@pytest.mark.parametrize(
    ("language", "category", "text"),
    [
        (language, category, text)
        for language, table in (
            ("en", ENGLISH_DANGER),
            ("da", DANISH_DANGER),
            *((language, examples["danger"]) for language, examples in EXAMPLES.items()),
        )
        for category, texts in table.items()
        for text in texts
    ],
)
def test_each_category_fires(screen: DangerScreen, language: str, category: str, text: str) -> None:
    assert category in categories(screen, text, language)


ENGLISH_ORDINARY = [
    "I want a job in IT",
    "We worked on my CV and my cover letter",
    "I killed it at the interview!",
    "My mentor helped me practise for the job interview",
    "It was an honour to meet my mentor",
    "It hit me that I need more Danish for this job",
    "Hit me up if you hear about an internship",
    "She beat me to it and applied first",
    "I don't want to live in Copenhagen, it is too expensive",
    "I work hard every day to learn the language",
    "I kill time on the bus with Danish podcasts",
    "My mentor pushes me to apply for more jobs",
    "My husband helps with the children so I can study",
    "I got an internship at a bank",
    "We practised small talk for the first day at work",
    "I am a bit afraid of the interview",
    "Nothing new this month, we met twice",
    "The job market is hard but I am not giving up",
    "We talked about workplace culture and how to ask for help",
    "Thank you, it was a great experience and I feel more confident",
]

DANISH_ORDINARY = [
    "Vi arbejdede med mit CV",
    "Jeg vil gerne have et job i IT",
    "Min mentor hjalp mig med jobsamtalen",
    "Det var en stor ære at møde min mentor",
    "Det var en ære at være med",
    "Jeg har haft voldsomt travlt med sprogskolen",
    "Jeg vil gerne slå mig ned i Aarhus",
    "Vi slog os ned i Odense sidste år",
    "Jeg må ikke gå glip af praktikken",
    "Det slår mig at danskere er meget direkte",
    "Jeg vil ikke leve af kontanthjælp",
    "Vi mødtes tre gange i denne måned",
    "Jeg fik et job som sosu-assistent",
    "Vi talte om arbejdskultur på danske arbejdspladser",
    "Jeg tager bussen til sprogskolen",
    "Min mand hjælper med børnene",
    "Jeg er glad for min mentor",
    "Vi øvede jobsamtale og jeg killed it",
    "Jeg søgte 10 job i denne måned",
    "Min mentor gav mig gode råd om netværk",
]


@pytest.mark.parametrize("text", ENGLISH_ORDINARY)
def test_ordinary_english_answers_raise_nothing(screen: DangerScreen, text: str) -> None:
    assert screen.screen(text, "en") == []


@pytest.mark.parametrize("text", DANISH_ORDINARY)
def test_ordinary_danish_answers_raise_nothing(screen: DangerScreen, text: str) -> None:
    assert screen.screen(text, "da") == []


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, examples in EXAMPLES.items() for text in examples["ordinary"]],
)
def test_ordinary_answers_raise_nothing_in_every_language(
    screen: DangerScreen, language: str, text: str
) -> None:
    assert screen.screen(text, language) == []


@pytest.mark.parametrize("language", sorted(EXAMPLES))
def test_every_language_has_examples_for_every_category(language: str) -> None:
    danger = EXAMPLES[language]["danger"]
    assert set(danger) == set(CATEGORIES)
    assert all(len(danger[category]) >= 3 for category in CATEGORIES)
    assert len(EXAMPLES[language]["ordinary"]) >= 10


@pytest.mark.parametrize(
    ("language", "suppressed", "still_fires"),
    [
        ("en", "It hit me that I need a CV", "He hit me"),
        ("en", "Hit me up later", "Hit me again and I call the police"),
        ("en", "It was an honour", "They talk about family honour"),
        ("en", "I don't want to live in Aarhus", "I don't want to live anymore"),
        ("en", "It hurts me that nobody calls back", "He hurts me"),
        ("da", "Jeg har voldsomt travlt", "Der er vold i hjemmet"),
        ("da", "Det var en ære", "Det handler om ære"),
        ("da", "Jeg vil slå mig ned i Vejle", "Han vil slå mig"),
        ("da", "Det slog mig at folk er venlige", "Han slog mig"),
        ("da", "Jeg må ikke gå glip af kurset", "Jeg må ikke gå ud"),
    ],
)
def test_negative_entries_suppress_only_inside_them(
    screen: DangerScreen, language: str, suppressed: str, still_fires: str
) -> None:
    assert screen.screen(suppressed, language) == []
    assert screen.screen(still_fires, language) != []


def test_negative_entry_does_not_hide_a_second_occurrence(screen: DangerScreen) -> None:
    assert categories(screen, "It hit me that he hit me", "en") == ["violence"]


def test_negative_entry_from_a_custom_list(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("violence: kill*\n!kill time\n", encoding="utf-8")
    screen = DangerScreen.load(tmp_path)
    assert screen.screen("I kill time on the bus", "en") == []
    assert screen.screen("He will kill", "en") == [DangerHit("violence", "kill*")]


@pytest.mark.parametrize(
    "text",
    [
        "He HITS me!!",
        "HE...hits...ME",
        "my husband—hits me",
        "«hits me»",
        "ＨＩＴＳ ｍｅ",
    ],
)
def test_case_punctuation_and_width_are_ignored(screen: DangerScreen, text: str) -> None:
    assert screen.screen(text, "en") == [DangerHit("violence", "hit* me")]


@pytest.mark.parametrize(
    "text", ["I don't want to live", "I don’t want to live", "I don´t want to live"]
)
def test_apostrophes_of_every_keyboard_are_ignored(screen: DangerScreen, text: str) -> None:
    assert screen.screen(text, "en") == [DangerHit("suicide", "dont want to live")]


def test_whole_words_only(screen: DangerScreen) -> None:
    assert screen.screen("I ate grapes and we hitchhiked to Malmö", "en") == []
    assert screen.screen("Hun er en hurtig medarbejder", "da") == []


def test_hits_are_sorted_by_severity_without_duplicates(screen: DangerScreen) -> None:
    text = (
        "he takes my money, he hits me, he hits me again and hits me every day, "
        "I cut myself and I want to die"
    )
    hits = screen.screen(text, "en")
    assert [hit.category for hit in hits] == list(CATEGORIES)
    assert len(hits) == len(set(hits))
    assert hits[2] == DangerHit("violence", "hit* me")


def test_a_longer_more_severe_phrase_wins_over_the_words_inside_it(screen: DangerScreen) -> None:
    assert screen.screen("Jeg vil dræbe mig selv", "da") == [DangerHit("suicide", "dræbe mig selv")]
    assert categories(screen, "jeg slår mig selv", "da") == ["self_harm"]


def test_person_language_and_english_are_checked(screen: DangerScreen) -> None:
    assert categories(screen, "han slår mig", "da-DK") == ["violence"]
    assert categories(screen, "he hits me", "ar") == ["violence"]
    # The Danish list is for Danish speakers; English speakers are not screened with it.
    assert screen.screen("han slår mig", "en") == []


def test_empty_answer_raises_nothing(screen: DangerScreen) -> None:
    assert screen.screen("", "da") == []
    assert screen.screen("!!! ...", "en") == []


def test_hit_is_frozen() -> None:
    hit = DangerHit("violence", "hit* me")
    with pytest.raises(AttributeError):
        hit.category = "suicide"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("violense: hits me", "unknown category 'violense'"),
        ("violence:", "the phrase is empty"),
        ("violence: ...", "the phrase is empty"),
        ("!", "the phrase is empty"),
        ("hits me", "expected 'category: phrase'"),
        ("violence: h*ts me", "'*' may only end a word"),
        ("violence: *", "'*' must follow letters"),
    ],
)
def test_broken_line_names_file_and_line(tmp_path: Path, line: str, complaint: str) -> None:
    path = tmp_path / "so.txt"
    path.write_text(f"# Somali\n\n{line}\nviolence: hits me\n", encoding="utf-8")
    with pytest.raises(DangerListError) as caught:
        DangerScreen.load(tmp_path)
    assert f"{path}, line 3" in str(caught.value)
    assert complaint in str(caught.value)


def test_list_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "da.txt"
    path.write_bytes("violence: slår mig\n".encode("latin-1"))
    with pytest.raises(DangerListError, match=r"da\.txt"):
        DangerScreen.load(tmp_path)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "da.txt").write_text("violence: slår mig\n", encoding="utf-8-sig")
    assert DangerScreen.load(tmp_path).screen("Han slår mig", "da") == [
        DangerHit("violence", "slår mig")
    ]


def test_missing_lists_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(DangerListError, match="no danger word lists"):
        DangerScreen.load(tmp_path)
    with pytest.raises(DangerListError):
        DangerScreen.load(tmp_path / "absent")


def test_a_list_named_with_a_region_is_found_in_any_spelling(tmp_path: Path) -> None:
    # fa_AF.txt used to load as "fa_af" and never matched "fa_AF": Dari got the Persian list.
    (tmp_path / "en.txt").write_text("suicide: want to die\n", encoding="utf-8")
    (tmp_path / "fa.txt").write_text("violence: persian only\n", encoding="utf-8")
    (tmp_path / "fa_AF.txt").write_text("violence: dari only\n", encoding="utf-8")
    screen = DangerScreen.load(tmp_path)
    assert screen.languages == ("en", "fa", "fa_AF")
    for spelling in ("fa_AF", "fa-af", "FA_af"):
        assert categories(screen, "dari only", spelling) == ["violence"]
        assert categories(screen, "persian only", spelling) == []
