"""What `cohortbot demo` offers the capabilities' demo sections: the demo cohort's fixed facts, and
the small interface of the running demo (bot/app/demo.py implements it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from bot.core.clock import SimulatedClock
from bot.core.messages import Message
from bot.core.runtime import App

COHORT = "demo-spoc"
START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # a Monday; Europe changes clocks on 28 March
WEEKS = 6
TRAINER = "tina"


class DemoRun(Protocol):
    app: App
    clock: SimulatedClock
    db_path: Path

    def print(self, text: str = "") -> None: ...

    def stamp(self, tz: str = "Europe/Paris") -> str: ...

    async def say(self, who: str, text: str, *, show: bool = True) -> Message | None: ...
