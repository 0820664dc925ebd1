"""Reading xAPI statements: check their shape and extract who finished what, how, and when.

Pure (no database): `parse_statements(body, now)` returns `Statement`s or raises `StatementError`
with a message precise enough for whoever configured the LMS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERBS = ("completed", "passed", "failed", "scored")


class StatementError(Exception):
    """The request body is not a statement we can read; the message says what is wrong."""


@dataclass(frozen=True)
class Statement:
    statement_id: str
    verb: str  # completed | passed | failed | scored
    email: str | None  # from actor.mbox
    account_name: str | None  # from actor.account.name
    activity_id: str
    status: str  # completed | passed | failed
    score: float | None  # 0..100
    timestamp: datetime
    raw: dict[str, Any]


def parse_statements(body: Any, now: datetime) -> list[Statement]:
    """One statement or a list of them, as decoded JSON."""
    if isinstance(body, dict):
        return [_parse(body, "statement", now)]
    if isinstance(body, list):
        if not body:
            raise StatementError("the list of statements is empty")
        return [_parse(item, f"statement {i}", now) for i, item in enumerate(body, start=1)]
    raise StatementError("the body must be a statement (a JSON object) or a list of statements")


def _parse(data: Any, where: str, now: datetime) -> Statement:
    if not isinstance(data, dict):
        raise StatementError(f"{where}: must be a JSON object")
    try:
        statement_id = _statement_id(data.get("id"))
        email, account = _actor(data.get("actor"))
        verb = _verb(data.get("verb"))
        activity_id = _object_id(data.get("object"))
        score, success = _result(data.get("result"))
        timestamp = _timestamp(data.get("timestamp"), now)
    except StatementError as e:
        raise StatementError(f"{where}: {e}") from None
    return Statement(
        statement_id=statement_id,
        verb=verb,
        email=email,
        account_name=account,
        activity_id=activity_id,
        status=_status(verb, success),
        score=score,
        timestamp=timestamp,
        raw=data,
    )


def _statement_id(value: Any) -> str:
    if value is None:
        return str(uuid.uuid4())  # as an LRS does for a statement sent without an id
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise StatementError(f"id {value!r} is not a UUID") from None


def _actor(actor: Any) -> tuple[str | None, str | None]:
    if not isinstance(actor, dict):
        raise StatementError("actor is missing")
    if actor.get("objectType", "Agent") != "Agent":
        raise StatementError("actor must be an Agent (a person), not a Group")
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:") and "@" in mbox:
        return mbox[len("mailto:") :].strip().lower(), None
    if mbox is not None:
        raise StatementError(f"actor.mbox {mbox!r} must look like mailto:name@example.com")
    account = actor.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str) and account["name"].strip():
        return None, account["name"].strip()
    if account is not None:
        raise StatementError("actor.account needs a name (and a homePage)")
    raise StatementError("actor has no mbox or account: say who the learner is")


def _verb(verb: Any) -> str:
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    if not isinstance(verb_id, str) or not verb_id:
        raise StatementError("verb.id is missing")
    if verb_id.startswith(ADL_VERBS) and verb_id[len(ADL_VERBS) :] in VERBS:
        return verb_id[len(ADL_VERBS) :]
    known = ", ".join(ADL_VERBS + v for v in VERBS)
    raise StatementError(f"verb {verb_id} is not one cohortbot records; use one of {known}")


def _object_id(obj: Any) -> str:
    object_id = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(object_id, str) or not object_id:
        raise StatementError("object.id is missing")
    if obj.get("objectType", "Activity") != "Activity":
        raise StatementError("object must be an Activity (the module)")
    return object_id


def _result(result: Any) -> tuple[float | None, bool | None]:
    """The score as 0..100 (from scaled, or raw with min/max, or raw alone when it is 0..100)."""
    if result is None:
        return None, None
    if not isinstance(result, dict):
        raise StatementError("result must be a JSON object")
    success = result.get("success")
    if success is not None and not isinstance(success, bool):
        raise StatementError("result.success must be true or false")
    score = result.get("score")
    if score is None:
        return None, success
    if not isinstance(score, dict):
        raise StatementError("result.score must be a JSON object")
    scaled, raw, low, high = (score.get(k) for k in ("scaled", "raw", "min", "max"))
    for name, value in (("scaled", scaled), ("raw", raw), ("min", low), ("max", high)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise StatementError(f"result.score.{name} must be a number")
    if scaled is not None:
        if not -1 <= scaled <= 1:
            raise StatementError(f"result.score.scaled must be between -1 and 1, not {scaled}")
        return round(max(0.0, scaled) * 100, 2), success
    if raw is None:
        return None, success
    if low is not None and high is not None:
        if high <= low or not low <= raw <= high:
            raise StatementError("result.score needs min < max and raw between them")
        return round((raw - low) / (high - low) * 100, 2), success
    if 0 <= raw <= 100:
        return float(raw), success
    raise StatementError(f"result.score.raw {raw} is not 0..100: send scaled, or min and max with it")


def _timestamp(value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise StatementError(f"timestamp {value!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise StatementError(f"timestamp {value!r} needs a time zone, e.g. 2027-03-04T10:00:00Z")
    return min(when, now)  # a clock running ahead cannot complete a module in the future


def _status(verb: str, success: bool | None) -> str:
    if verb == "scored":
        return {True: "passed", False: "failed", None: "completed"}[success]
    return verb
