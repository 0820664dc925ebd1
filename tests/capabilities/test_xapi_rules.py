"""The statement validator against the xAPI 1.0.3 rules: each valid shape passes, each broken rule
is named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.capabilities.completion.statements import StatementError, parse_statements
from bot.capabilities.completion.xapi_rules import InvalidStatement, check_statement
from bot.core import i18n
from tests.capabilities.xapi_fixtures.shapes import INVALID, VALID

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("statement", list(VALID.values()), ids=list(VALID))
def test_a_valid_statement_passes(statement: dict[str, Any]) -> None:
    check_statement(statement)


@pytest.mark.parametrize(("statement", "why"), list(INVALID.values()), ids=list(INVALID))
def test_a_statement_breaking_a_rule_is_refused_naming_it(statement: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidStatement, match=None) as refused:
        check_statement(statement)
    assert why in str(refused.value)


def test_non_objects_and_infinite_numbers_are_refused() -> None:
    for bad in (None, [], "statement", 3):
        with pytest.raises(InvalidStatement):
            check_statement(bad)
    with pytest.raises(InvalidStatement, match="finite"):
        check_statement({**VALID["minimal without id"], "result": {"score": {"raw": float("inf")}}})


def test_an_lms_reads_the_rule_in_english_and_a_person_in_their_language() -> None:
    """The same error: its text is English (the HTTP answer to an LMS), and `translated` writes it
    for a person (`cohortbot import completions` of a French cohort)."""
    bad = {**VALID["minimal without id"], "actor": {"mbox": "alice@example.com"}}
    with i18n.use("fr"), pytest.raises(StatementError) as refused:
        parse_statements([VALID["minimal without id"], bad], NOW)
    assert str(refused.value) == "statement 2: actor.mbox: must be mailto:name@example.com"
    with i18n.use("fr"):
        shown = i18n.translated(refused.value.args[0])
    assert shown == "déclaration 2 : actor.mbox : doit être de la forme mailto:nom@example.com"
