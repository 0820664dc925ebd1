"""Points rules and challenge settings of a cohort: defaults, the programme sections `points` and
`challenges`, and their validators."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import _
from bot.core.models import Cohort
from bot.core.registry import programme_section

DEFAULT_POINTS: dict[str, int] = {
    "attendance_present": 5,  # checked in to a live session
    "attendance_late": 2,  # checked in late
    "module_on_time": 10,  # module completed (not failed) by its due date
    "module_late": 0,  # module completed after its due date
    "survey_answered": 3,  # answered a survey
    "challenge_win": 20,  # default prize of a quiz or task, per winner
    "streak_week": 15,  # every module due that week completed on time
}
MAX_POINTS = 1000


def points_rules(cohort: Cohort) -> dict[str, int]:
    """The cohort's points per kind: the defaults, overridden by the programme's `points` section."""
    return rules_from_programme(cohort.programme)


def rules_from_programme(programme: dict[str, Any] | None) -> dict[str, int]:
    section = (programme or {}).get("points") or {}
    return {**DEFAULT_POINTS, **{k: int(v) for k, v in section.items() if k in DEFAULT_POINTS}}


@dataclass(frozen=True)
class ChallengeSettings:
    streaks: bool = True  # a weekly streak challenge, judged each Monday for the week before
    weekly_leaderboard: bool = True  # posted to the cohort channel every Monday at 09:00
    individual_top: int = 0  # also show the N best learners in the weekly post (0: teams only)


def challenge_settings(cohort: Cohort) -> ChallengeSettings:
    section = (cohort.programme or {}).get("challenges") or {}
    return ChallengeSettings(
        **{k: v for k, v in section.items() if k in ChallengeSettings.__dataclass_fields__}
    )


def _unknown(key: str, known: list[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1)
    if near:
        return _("unknown setting '{key}'. Did you mean {near}?", key=key, near=near[0])
    return _("unknown setting '{key}'. Known: {known}.", key=key, known=", ".join(known))


@programme_section("points")
def validate_points(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return [("", _("must be a mapping of kind: points, e.g. module_on_time: 10"))]
    errors = []
    for key, value in data.items():
        if key not in DEFAULT_POINTS:
            errors.append((str(key), _unknown(str(key), list(DEFAULT_POINTS))))
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POINTS:
            errors.append(
                (
                    str(key),
                    _(
                        "must be a whole number from 0 to {high}, not {value}",
                        high=MAX_POINTS,
                        value=repr(value),
                    ),
                )
            )
    return errors


@programme_section("challenges")
def validate_challenges(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return [("", _("must be a mapping, e.g. streaks: true"))]
    known = list(ChallengeSettings.__dataclass_fields__)
    errors = []
    for key, value in data.items():
        if key not in known:
            errors.append((str(key), _unknown(str(key), known)))
        elif key == "individual_top":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
                errors.append(
                    (
                        key,
                        _("must be a whole number from 0 to {high}, not {value}", high=50, value=repr(value)),
                    )
                )
        elif not isinstance(value, bool):
            errors.append((key, _("must be true or false, not {value}", value=repr(value))))
    return errors
