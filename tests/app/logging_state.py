"""A fixture that lets a test call `bot.app.logs.configure` and puts pytest's own logging back after."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.app.logs import QUIET_LIBRARIES


@pytest.fixture
def own_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)
