"""The command grammar: every string gives a command or a usage error, and errors help."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.grammar import Parsed, ParseError, parse
from bot.core.registry import VERBS, load_capabilities

load_capabilities()

WORDS = [
    *VERBS,
    "spoc",
    "alice",
    "<@U0123ABCD>",
    "bob@example.com",
    '"Kick off"',
    "2027-03-02",
    "14:00",
    "90m",
    "due",
    "tz=Europe/Paris",
    "team=blue",
    "admin",
    "trainer",
    "=",
    '"',
    "x=1",
    "2h30m",
    "25:99",
]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_command_or_a_usage_error(text: str) -> None:
    result = parse(text, VERBS)
    assert isinstance(result, Parsed | ParseError)
    if isinstance(result, ParseError):
        assert result.render().strip()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_any_sequence_of_grammar_words_gives_a_command_or_a_usage_error(words: list[str]) -> None:
    result = parse(" ".join(words), VERBS)
    assert isinstance(result, Parsed | ParseError)


def error(text: str) -> ParseError:
    result = parse(text, VERBS)
    assert isinstance(result, ParseError), result
    return result


def test_a_misspelt_verb_suggests_the_nearest_valid_form() -> None:
    e = error("enrol spoc alice bob")
    assert e.reason == "Unknown command 'enrol'."
    assert e.suggestion == "enroll spoc alice bob"
    assert e.usage and e.usage.startswith("enroll <cohort> <people...>")


def test_an_unknown_verb_without_neighbour_lists_the_commands() -> None:
    assert "Commands:" in error("xyzzy").reason


def test_session_parses_local_time_and_duration() -> None:
    result = parse(
        '/cohort session spoc "Kick off" 2027-03-02 14:00 1h30m link=https://meet.example/x', VERBS
    )
    assert isinstance(result, Parsed)
    assert result.values["title"] == "Kick off"
    assert result.values["starts"] == datetime(2027, 3, 2, 14, 0)
    assert result.values["duration"] == timedelta(minutes=90)
    assert result.values["link"] == "https://meet.example/x"


def test_smart_quotes_from_chat_clients_are_accepted() -> None:
    result = parse("session spoc “Kick off” 2027-03-02 14:00 90m", VERBS)
    assert isinstance(result, Parsed) and result.values["title"] == "Kick off"


def test_bad_arguments_say_what_is_wrong_and_show_usage_and_example() -> None:
    cases = {
        'session spoc "Kick off" 2027-13-02 14:00 90m': "is not a date and time",
        'session spoc "Kick off" 2027-03-02 90m': "is not a date and time",
        'session spoc "Kick off" 2027-03-02 14:00 ninety': "is not a duration",
        'session spoc "Kick off" 2027-03-02 14:00 30h': "out of range",
        'module spoc "M1" due 2027-02-30': "is not a date",
        'module spoc "M1" by 2027-03-05': "expected the word 'due'",
        "create spoc tz=Europe/Pari": "Did you mean Europe/Paris?",
        "create Spoc!": "not a valid cohort name",
        "enroll spoc": "Missing <people...>",
        "status spoc extra": "Unexpected 'extra'",
        "role spoc boss alice": "is not one of admin, trainer",
        "enroll spoc alice colour=red": "Unknown option 'colour='",
        'session spoc "unclosed 2027-03-02': "Unbalanced quotes",
    }
    for text, expected in cases.items():
        e = error(text)
        assert expected in e.reason, (text, e.reason)
        if "Unbalanced" not in expected:
            assert e.usage and e.example, text
            assert "Usage:" in e.render() and "Example:" in e.render()


def test_cohort_names_are_case_insensitive() -> None:
    result = parse("status SPOC", VERBS)
    assert isinstance(result, Parsed) and result.values["cohort"] == "spoc"


def test_empty_input_asks_for_a_command() -> None:
    assert "help" in error("   ").render()
