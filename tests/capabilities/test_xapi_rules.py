"""The statement validator against the xAPI 1.0.3 rules: each valid shape passes, each broken rule
is named."""

from __future__ import annotations

from typing import Any

import pytest

from bot.capabilities.completion.xapi_rules import InvalidStatement, check_statement
from tests.capabilities.xapi_fixtures.shapes import INVALID, VALID


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
