"""Programme files: a cohort's calendar relative to its start, validated with line numbers.

A programme lists live sessions (a day offset or a weekly rule, a local time, a duration),
modules (release and due day offsets), reminder rules, quiet hours and working days. Other
capabilities own further sections (surveys, challenges...) and register their validators;
`validate` runs them all and reports every problem as `line: path: message`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schedules import yamllines
from schedules.wording import L_

EXAMPLES_DIR = Path(__file__).parent / "examples"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Sections other capabilities own (they register validators when they are installed).
AGREED_SECTIONS = ("attendance", "surveys", "challenges", "points", "digests")
SCHEDULER_SECTIONS = ("sessions", "modules", "reminders", "quiet_hours", "working_days")
HEADER_KEYS = ("name", "title", "description", "kind", "dates_from", "tz")
KINDS = ("spoc", "cooc", "mooc")
DATES_FROM = ("start", "enrolment")
RULE_KINDS = ("session", "module")
DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# (path inside the section, message): a message is a `Later` (`L_`) or, from a capability's
# validator, text already in the reader's language.
Problems = list[tuple[str, str]]
SectionValidator = Callable[[Any], Problems]


class ProgrammeError(ValueError):
    """A programme that cannot be used, with every problem as `line: path: message` (each a
    `Later`: English, and the bot writes it in its reader's language)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


# -- small value parsers (shared by validation and planning) --------------------------------------


def parse_duration(text: Any) -> timedelta | None:
    """`1d`, `2h`, `15m`, `1d2h30m` -> timedelta; None when it is not one."""
    match = DURATION_RE.match(str(text).strip().lower()) if text is not None else None
    if not match or not any(match.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def parse_time(text: Any) -> time | None:
    """`"09:30"` -> time; None when it is not one (unquoted 09:30 reaches us as a YAML number)."""
    match = TIME_RE.match(str(text).strip()) if text is not None else None
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _is_day(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3650


# -- validators of the scheduler's sections ------------------------------------------------------


def validate_sessions(data: Any) -> Problems:
    if not isinstance(data, list):
        return [("", L_("sessions must be a list of sessions"))]
    problems: Problems = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            problems.append(
                (f"[{i}]", L_("each session is a mapping with title, day or weekly, at, duration"))
            )
            continue
        problems += _unknown_keys(
            item, f"[{i}]", ("title", "day", "weekly", "count", "from_day", "at", "duration", "link")
        )
        if not str(item.get("title") or "").strip():
            problems.append((f"[{i}]", L_("a session needs a title")))
        has_day, has_weekly = "day" in item, "weekly" in item
        if has_day == has_weekly:
            problems.append((f"[{i}]", L_("give exactly one of day: <offset> or weekly: <mon..sun>")))
        if has_day and not _is_day(item["day"]):
            problems.append(
                (
                    f"[{i}].day",
                    L_("day is a whole number of days after the start, not {value}", value=repr(item["day"])),
                )
            )
        if has_weekly:
            if str(item["weekly"]).lower()[:3] not in WEEKDAYS:
                problems.append(
                    (f"[{i}].weekly", L_("weekly is a weekday ({days})", days=", ".join(WEEKDAYS)))
                )
            count = item.get("count")
            if not (isinstance(count, int) and 1 <= count <= 200):
                problems.append((f"[{i}]", L_("a weekly session needs count: <how many weeks> (1-200)")))
            if "from_day" in item and not _is_day(item["from_day"]):
                problems.append((f"[{i}].from_day", L_("from_day is a whole number of days")))
        if parse_time(item.get("at")) is None:
            problems.append((f"[{i}].at", _bad_time("at", item.get("at"))))
        duration = parse_duration(item.get("duration"))
        if duration is None or not timedelta(minutes=1) <= duration <= timedelta(hours=24):
            problems.append((f"[{i}].duration", L_("duration is like 90m, 2h or 1h30m (at most 24h)")))
    return problems


def validate_modules(data: Any) -> Problems:
    if not isinstance(data, list):
        return [("", L_("modules must be a list of modules"))]
    problems: Problems = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            problems.append((f"[{i}]", L_("each module is a mapping with title, release and due")))
            continue
        problems += _unknown_keys(item, f"[{i}]", ("title", "release", "due", "link"))
        if not str(item.get("title") or "").strip():
            problems.append((f"[{i}]", L_("a module needs a title")))
        if not _is_day(item.get("due")):
            problems.append(
                (
                    f"[{i}].due",
                    L_(
                        "due is a whole number of days after the start, not {value}",
                        value=repr(item.get("due")),
                    ),
                )
            )
        release = item.get("release")
        if release is not None and not _is_day(release):
            problems.append((f"[{i}].release", L_("release is a whole number of days after the start")))
        elif _is_day(release) and _is_day(item.get("due")) and release > item["due"]:
            problems.append(
                (
                    f"[{i}].release",
                    L_(
                        "released on day {release}, after it is due (day {due})",
                        release=release,
                        due=item["due"],
                    ),
                )
            )
    return problems


def validate_reminders(data: Any) -> Problems:
    if not isinstance(data, list):
        return [("", L_("reminders must be a list of rules"))]
    problems: Problems = []
    for i, rule in enumerate(data):
        if not isinstance(rule, Mapping):
            problems.append((f"[{i}]", L_("each reminder is a mapping like {of: session, before: 1d}")))
            continue
        problems += _unknown_keys(
            rule, f"[{i}]", ("of", "before", "days_before", "at", "nudge", "optional", "quiet_hours", "grace")
        )
        of = rule.get("of")
        if of not in RULE_KINDS:
            problems.append((f"[{i}].of", L_("of is session or module, not {value}", value=repr(of))))
        has_before, has_at = "before" in rule, "at" in rule
        if has_before == has_at:
            problems.append(
                (f"[{i}]", L_("give either before: <duration> or days_before: <n> with at: HH:MM"))
            )
        if has_before:
            before = parse_duration(rule["before"])
            if before is None or before > timedelta(days=60):
                problems.append(
                    (
                        f"[{i}].before",
                        L_(
                            "before is a duration like 1d, 2h or 15m, not {value}", value=repr(rule["before"])
                        ),
                    )
                )
        if has_at:
            if parse_time(rule["at"]) is None:
                problems.append((f"[{i}].at", _bad_time("at", rule["at"])))
            days = rule.get("days_before", 0)
            if not (isinstance(days, int) and 0 <= days <= 60):
                problems.append(
                    (f"[{i}].days_before", L_("days_before is a whole number of days (0 = that day)"))
                )
        elif "days_before" in rule:
            problems.append((f"[{i}].days_before", L_("days_before goes with at: HH:MM")))
        if rule.get("nudge") and of != "module":
            problems.append((f"[{i}].nudge", L_("nudges are for modules: they go to whoever is not done")))
        for flag in ("nudge", "optional"):
            if flag in rule and not isinstance(rule[flag], bool):
                problems.append((f"[{i}].{flag}", L_("{key} is true or false", key=flag)))
        if "quiet_hours" in rule and rule["quiet_hours"] not in ("respect", "ignore"):
            problems.append((f"[{i}].quiet_hours", L_("quiet_hours is respect or ignore")))
        if "grace" in rule and parse_duration(rule["grace"]) is None:
            problems.append((f"[{i}].grace", L_("grace is a duration like 2h")))
    return problems


def validate_quiet_hours(data: Any) -> Problems:
    if not isinstance(data, Mapping):
        return [("", L_('quiet_hours is a mapping like {from: "21:00", to: "08:00"}'))]
    problems = _unknown_keys(data, "", ("from", "to"))
    for key in ("from", "to"):
        if parse_time(data.get(key)) is None:
            problems.append((key, _bad_time(key, data.get(key))))
    return problems


def validate_working_days(data: Any) -> Problems:
    if not isinstance(data, list) or not data:
        return [("", L_("working_days is a non-empty list like [mon, tue, wed, thu, fri]"))]
    return [
        (f"[{i}]", L_("{value} is not a weekday ({days})", value=repr(day), days=", ".join(WEEKDAYS)))
        for i, day in enumerate(data)
        if str(day).lower()[:3] not in WEEKDAYS
    ]


SCHEDULER_VALIDATORS: dict[str, SectionValidator] = {
    "sessions": validate_sessions,
    "modules": validate_modules,
    "reminders": validate_reminders,
    "quiet_hours": validate_quiet_hours,
    "working_days": validate_working_days,
}


def _bad_time(key: str, value: Any) -> str:
    if isinstance(value, int):
        return L_(
            '{key} is a local time in quotes, like "09:00" (unquoted, YAML reads it as a number)', key=key
        )
    return L_('{key} is a local time "HH:MM", not {value}', key=key, value=repr(value))


def _unknown_keys(item: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> Problems:
    problems: Problems = []
    for key in item:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            message = (
                L_("unknown key {key}. Did you mean {near}?", key=repr(key), near=near[0])
                if near
                else L_("unknown key {key}. Known: {known}.", key=repr(key), known=", ".join(allowed))
            )
            problems.append((f"{path}.{key}" if path else str(key), message))
    return problems


# -- the whole file --------------------------------------------------------------------------------


def validate(
    text: str, sections: Mapping[str, SectionValidator], source: str = "programme"
) -> tuple[dict[str, Any], list[str]]:
    """Parse and check a programme; returns (data, problems as 'line N: path: message', each a
    `Later`)."""
    try:
        located = yamllines.load(text)
    except yamllines.YamlSyntaxError as e:
        return {}, [L_("line {line}: not valid YAML: {problem}", line=e.line, problem=e.message)]
    data = located.data
    if not isinstance(data, dict):
        return {}, [
            L_(
                "line {line}: a programme is a mapping of sections (sessions:, modules:, reminders: ...)",
                line=1,
            )
        ]
    found: list[tuple[int, str, str]] = []

    def report(path: yamllines.Path, message: str) -> None:
        found.append((located.line_of(path), yamllines.show_path(path), message))

    known = (*HEADER_KEYS, *SCHEDULER_SECTIONS, *AGREED_SECTIONS, *sections)
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            report(
                (str(key),),
                L_("unknown section {key}. Did you mean {near}?", key=repr(key), near=near[0])
                if near
                else L_("unknown section {key}.", key=repr(key)),
            )
    _check_header(data, report)
    for name, validator in sections.items():
        if name in data:
            for path, message in validator(data[name]):
                report((name, *yamllines.parse_path(path)), message)
    found.sort(key=lambda f: f[0])
    return data, [
        L_("line {line}: {path}: {problem}", line=line, path=path, problem=message)
        if path
        else L_("line {line}: {problem}", line=line, problem=message)
        for line, path, message in found
    ]


def _check_header(data: dict[str, Any], report: Callable[[yamllines.Path, str], None]) -> None:
    if "name" in data and not re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", str(data["name"])):
        report(("name",), L_("name is a short slug like spoc-6w"))
    if "kind" in data and data["kind"] not in KINDS:
        report(("kind",), L_("kind is one of {kinds}", kinds=", ".join(KINDS)))
    if "dates_from" in data and data["dates_from"] not in DATES_FROM:
        report(("dates_from",), L_("dates_from is start (one calendar) or enrolment (each learner's own)"))
    if "tz" in data:
        try:
            ZoneInfo(str(data["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            report(("tz",), L_("{value} is not an IANA time zone like Europe/Paris", value=repr(data["tz"])))


def load_file(path: Path, sections: Mapping[str, SectionValidator]) -> dict[str, Any]:
    """A valid programme from a file, or a ProgrammeError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ProgrammeError(str(path), [L_("cannot read it: {reason}", reason=e.strerror)]) from None
    data, problems = validate(text, sections, str(path))
    if problems:
        raise ProgrammeError(path.name, problems)
    return data


def find(name_or_file: str, base: Path | None = None) -> Path:
    """An example by name (`spoc-6w`), or a file path."""
    candidate = EXAMPLES_DIR / f"{name_or_file}.yaml"
    if candidate.exists():
        return candidate
    path = Path(name_or_file)
    if not path.is_absolute() and base is not None:
        path = base / path
    if path.exists():
        return path
    names = sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))
    near = difflib.get_close_matches(name_or_file, names, n=1)
    raise FileNotFoundError(
        L_("There is no programme '{name}'. Did you mean {near}?", name=name_or_file, near=near[0])
        if near
        else L_(
            "There is no programme '{name}'. Programmes: {names}.", name=name_or_file, names=", ".join(names)
        )
    )


# -- materialising a calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionSpec:
    title: str
    starts_at: datetime  # UTC
    duration_min: int
    location: str | None


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    release_at: datetime | None  # UTC
    due_at: datetime  # UTC, end of the due day in the cohort's zone


def local_moment(day: date, at: time, tz: str) -> datetime:
    """A wall-clock moment as UTC. A time the clocks skip moves forward by the gap; a time they
    repeat takes its first occurrence: a DST change never drops nor doubles a moment."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def end_of_day(day: date, tz: str) -> datetime:
    return local_moment(day, time(23, 59), tz)


def session_days(item: Mapping[str, Any], start: date) -> list[tuple[int, date]]:
    """(number, date) of each occurrence of a programme session."""
    if "day" in item:
        return [(1, start + timedelta(days=int(item["day"])))]
    weekday = WEEKDAYS.index(str(item["weekly"]).lower()[:3])
    first = start + timedelta(days=int(item.get("from_day", 0)))
    first += timedelta(days=(weekday - first.weekday()) % 7)
    return [(n + 1, first + timedelta(weeks=n)) for n in range(int(item["count"]))]


def expand_sessions(programme: Mapping[str, Any], start: date, tz: str) -> list[SessionSpec]:
    specs = []
    for item in programme.get("sessions") or []:
        at = parse_time(item["at"])
        duration = parse_duration(item["duration"])
        assert at is not None and duration is not None  # validated
        for n, day in session_days(item, start):
            specs.append(
                SessionSpec(
                    title=str(item["title"]).replace("{n}", str(n)),
                    starts_at=local_moment(day, at, tz),
                    duration_min=int(duration.total_seconds() // 60),
                    location=item.get("link"),
                )
            )
    return sorted(specs, key=lambda s: s.starts_at)


def expand_modules(programme: Mapping[str, Any], start: date, tz: str) -> list[ModuleSpec]:
    specs = []
    for item in programme.get("modules") or []:
        release = item.get("release")
        specs.append(
            ModuleSpec(
                title=str(item["title"]),
                release_at=local_moment(start + timedelta(days=int(release)), time(8, 0), tz)
                if release is not None
                else None,
                due_at=end_of_day(start + timedelta(days=int(item["due"])), tz),
            )
        )
    return sorted(specs, key=lambda m: m.due_at)
