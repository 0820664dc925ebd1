"""What an xAPI statement means to a cohort: who, which activity, completed / passed / failed, score.

Pure (no database): `parse_statements(body, now)` checks every statement with `xapi_rules`
(a batch with one invalid statement fails whole, as the specification requires) and returns
`Statement`s. Only completed / passed / failed (and the older `scored`) about an Activity carry
a completion; `voided` undoes another statement; every other valid statement is kept, unused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.capabilities.completion.xapi_rules import VOIDED, InvalidStatement, check_statement, parse_timestamp
from bot.core.i18n import L_

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
COMPLETION_VERBS = ("completed", "passed", "failed", "scored")


class StatementError(Exception):
    """The request body is not valid xAPI; the message says which statement and property (English,
    as an LMS is answered; `L_` where a person may read it: `cohortbot import completions`)."""


@dataclass(frozen=True)
class Actor:
    """Who a statement is about, by the identifier it carries (at most one is set)."""

    email: str | None = None  # from mbox, lower case
    mbox_sha1sum: str | None = None  # lower case hex
    account_home: str | None = None
    account_name: str | None = None
    openid: str | None = None
    group: bool = False

    @property
    def key(self) -> str | None:
        """A stable text key to find this actor's statements again (to link a learner later)."""
        if self.email:
            return f"mbox:{self.email}"
        if self.mbox_sha1sum:
            return f"sha1:{self.mbox_sha1sum}"
        if self.account_name is not None:
            return f"account:{self.account_name}"
        if self.openid:
            return f"openid:{self.openid}"
        return None

    def describe(self) -> str:
        if self.group:
            return "a Group"
        return (
            self.email
            or (self.account_name and f"LMS user {self.account_name}")
            or self.mbox_sha1sum
            or self.openid
            or "?"
        )


@dataclass(frozen=True)
class Statement:
    statement_id: str
    verb_id: str
    verb: str  # the verb's last path segment: completed, viewed, voided ...
    actor: Actor
    activity_id: str | None  # the object's id when the object is an Activity
    voids: str | None  # the statement id a voiding statement targets
    status: str | None  # completed | passed | failed when the statement reports a completion
    score: float | None  # 0..100
    timestamp: datetime
    raw: dict[str, Any]  # the statement as stored (with its id)


def parse_statements(body: Any, now: datetime) -> list[Statement]:
    """One statement or a list of them, as decoded JSON; StatementError if any is invalid."""
    if isinstance(body, dict):
        return [parse_statement(body, L_("statement"), now)]
    if isinstance(body, list):
        if not body:
            raise StatementError(L_("the list of statements is empty"))
        return [parse_statement(item, L_("statement {n}", n=i), now) for i, item in enumerate(body, start=1)]
    raise StatementError(L_("the body must be a statement (a JSON object) or a list of statements"))


def parse_statement(data: Any, where: str, now: datetime) -> Statement:
    try:
        check_statement(data)
    except InvalidStatement as e:
        raise StatementError(L_("{where}: {problem}", where=where, problem=e.args[0])) from None
    statement_id = str(data.get("id") or uuid.uuid4()).lower()  # an LRS assigns a missing id
    verb_id = data["verb"]["id"]
    verb = verb_id.rstrip("/").rsplit("/", 1)[-1]
    obj = data["object"]
    object_type = obj.get("objectType", "Activity")
    activity_id = obj["id"] if object_type == "Activity" else None
    voids = obj["id"].lower() if verb_id == VOIDED else None
    status, score = _completion(verb_id, activity_id, data.get("result") or {})
    timestamp = parse_timestamp(data["timestamp"]) if "timestamp" in data else now
    return Statement(
        statement_id=statement_id,
        verb_id=verb_id,
        verb=verb,
        actor=actor_of(data["actor"]),
        activity_id=activity_id,
        voids=voids,
        status=status,
        score=score,
        timestamp=min(timestamp, now),  # a clock running ahead cannot complete a module in the future
        raw={**data, "id": statement_id},
    )


def actor_of(actor: dict[str, Any]) -> Actor:
    if actor.get("objectType") == "Group":
        return Actor(group=True)
    account = actor.get("account") or {}
    return Actor(
        email=actor["mbox"][len("mailto:") :].strip().lower() if "mbox" in actor else None,
        mbox_sha1sum=actor["mbox_sha1sum"].lower() if "mbox_sha1sum" in actor else None,
        account_home=account.get("homePage"),
        account_name=account["name"].strip() if "name" in account else None,
        openid=actor.get("openid"),
    )


def _completion(
    verb_id: str, activity_id: str | None, result: dict[str, Any]
) -> tuple[str | None, float | None]:
    """(status, score) for a completion verb about an Activity, else (None, None)."""
    if activity_id is None or not verb_id.startswith(ADL_VERBS):
        return None, None
    verb = verb_id[len(ADL_VERBS) :]
    if verb not in COMPLETION_VERBS:
        return None, None
    success = result.get("success")
    score = score_of(result.get("score") or {})
    if verb == "completed":
        return ("failed" if success is False else "completed"), score
    if verb == "scored":  # not an ADL verb, but LMSs sent it: success says passed or failed
        return {True: "passed", False: "failed", None: "completed"}[success], score
    return verb, score


def score_of(score: dict[str, Any]) -> float | None:
    """The score as 0..100: from scaled, or raw with min/max, or raw alone when it is 0..100."""
    scaled, raw, low, high = (score.get(k) for k in ("scaled", "raw", "min", "max"))
    if scaled is not None:
        return round(max(0.0, float(scaled)) * 100, 2)
    if raw is None:
        return None
    if low is not None and high is not None:
        return round((raw - low) / (high - low) * 100, 2)
    if low is None and high is not None and high > 0 and 0 <= raw <= high:
        return round(raw / high * 100, 2)
    return float(raw) if 0 <= raw <= 100 else None
