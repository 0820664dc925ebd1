"""Libraries stay quiet at the default log level: a PDF does not print fontTools' subsetting steps."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app.logs import configure
from bot.capabilities.attendance.exports import write_pdf
from tests.app.logging_state import own_logging  # noqa: F401  (fixture)


@pytest.mark.usefixtures("own_logging")
def test_a_pdf_logs_nothing_from_fonttools_at_info(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "text")
    write_pdf(tmp_path / "sheet.pdf", "Attendance – séance 1", ["Trainer: Tina"], [["Alice", "présente"]], [])
    assert "fontTools" not in capfd.readouterr().err


@pytest.mark.usefixtures("own_logging")
def test_debug_shows_the_libraries_again(tmp_path: Path) -> None:
    configure("DEBUG", "text")
    assert logging.getLogger("fontTools.subset").isEnabledFor(logging.INFO)
    configure("INFO", "text")
    assert not logging.getLogger("fontTools.subset").isEnabledFor(logging.INFO)
