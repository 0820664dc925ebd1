"""Is this a valid xAPI statement? The xAPI 1.0.3 data rules (Part Two), and nothing else.

Pure: `check_statement(data)` raises `InvalidStatement` naming the property at fault
(e.g. `actor.account.homePage: missing`), or returns. The same rules check what cohortbot
receives from an LMS and what it sends to an LRS. Extension values are any JSON and are not
looked into; everything else follows the specification: exactly one inverse functional
identifier per Agent, IRIs with a scheme, UUIDs, language maps, no nulls, ISO 8601 times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.core.i18n import L_

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
MAILTO_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$", re.IGNORECASE)
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
LANGUAGE_RE = re.compile(r"^(?:[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*|\*)$")  # RFC 5646, loosely
# ISO 8601 date and time as the spec's examples use it; the zone may be absent (read as UTC).
TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
DURATION_RE = re.compile(
    r"^P(?!$)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?!$)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$"
)
INTERACTION_TYPES = frozenset(
    {"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing"}
    | {"likert", "numeric", "other"}
)
INTERACTION_COMPONENTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KINDS = frozenset({"parent", "grouping", "category", "other"})
AGENT_KEYS = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
STATEMENT_KEYS = (
    *("id", "actor", "verb", "object", "result", "context", "timestamp"),
    *("stored", "authority", "version", "attachments"),
)
DEFINITION_KEYS = (
    *("name", "description", "type", "moreInfo", "extensions", "interactionType"),
    *("correctResponsesPattern", *INTERACTION_COMPONENTS),
)
CONTEXT_KEYS = (
    *("registration", "instructor", "team", "contextActivities", "revision", "platform"),
    *("language", "statement", "extensions"),
    *("contextAgents", "contextGroups"),  # xAPI 2.0 (IEEE 9274.1.1), sent with the 2.0 version header
)


MAX_EXTENSION_DEPTH = 32  # extension values are free JSON: bounded, so storing them cannot recurse away


class InvalidStatement(ValueError):
    """The statement breaks a rule of the specification: `where` names the property, `problem` says
    what is wrong. The message is English (what an LMS is answered); a person reads it in their
    language (`bot.core.i18n.translated`)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(L_("{where}: {problem}", where=where, problem=problem))
        self.where = where
        self.problem = problem


def check_statement(data: Any) -> None:
    """Raise InvalidStatement unless `data` (decoded JSON) is a valid xAPI 1.0.3 statement."""
    _object(data, "statement")
    _keys(
        data,
        "",
        required=("actor", "verb", "object"),
        allowed=STATEMENT_KEYS,
    )
    if "id" in data:
        _uuid(data["id"], "id")
    _statement_body(data, "")
    if "stored" in data:
        _timestamp(data["stored"], "stored")
    if "authority" in data:
        _actor(data["authority"], "authority")
    if "version" in data:
        _version(data["version"], "version")


def _statement_body(data: dict[str, Any], prefix: str) -> None:
    """What a statement and a SubStatement share: actor, verb, object, result, context, time."""
    _actor(data["actor"], prefix + "actor")
    _verb(data["verb"], prefix + "verb")
    _statement_object(data["object"], prefix + "object", sub=bool(prefix))
    if data["verb"]["id"] == VOIDED and _object_type(data["object"], "Activity") != "StatementRef":
        raise InvalidStatement(f"{prefix}object", L_("a voiding statement's object must be a StatementRef"))
    if "result" in data:
        _result(data["result"], prefix + "result")
    if "context" in data:
        _context(
            data["context"],
            prefix + "context",
            object_is_activity=_object_type(data["object"], "Activity") == "Activity",
        )
    if "timestamp" in data:
        _timestamp(data["timestamp"], prefix + "timestamp")
    if "attachments" in data:
        _list(data["attachments"], prefix + "attachments", _attachment)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        raise InvalidStatement(where, L_("null is not allowed"))
    if not isinstance(value, dict):
        raise InvalidStatement(where, L_("must be a JSON object"))
    return value


def _keys(
    data: dict[str, Any], where: str, *, required: tuple[str, ...] = (), allowed: tuple[str, ...]
) -> None:
    prefix = f"{where}." if where else ""
    for key, value in data.items():
        if key not in allowed:
            raise InvalidStatement(
                where or L_("statement"), L_("unknown property {value}", value=_shown(key))
            )
        if value is None:
            raise InvalidStatement(f"{prefix}{key}", L_("null is not allowed"))
    for key in required:
        if key not in data:
            raise InvalidStatement(f"{prefix}{key}", L_("missing"))


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidStatement(where, L_("must be a string"))
    return value


def _boolean(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise InvalidStatement(where, L_("must be true or false"))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidStatement(where, L_("must be a finite number"))
    return float(value)


def _uuid(value: Any, where: str) -> None:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise InvalidStatement(where, L_("{value} is not a UUID", value=_shown(value)))


def _iri(value: Any, where: str) -> None:
    if not isinstance(value, str) or not IRI_RE.match(value):
        raise InvalidStatement(
            where, L_("{value} is not an IRI (it needs a scheme, e.g. https:)", value=_shown(value))
        )


def _language_map(value: Any, where: str) -> None:
    _object(value, where)
    for tag, text in value.items():
        if not LANGUAGE_RE.match(tag):
            raise InvalidStatement(where, L_("{value} is not a language tag (e.g. en-US)", value=_shown(tag)))
        _string(text, f"{where}.{tag}")


def _extensions(value: Any, where: str) -> None:
    for key, content in _object(value, where).items():
        _iri(key, f"{where} key")
        if _depth(content) > MAX_EXTENSION_DEPTH:
            raise InvalidStatement(
                where, L_("a value nests deeper than {limit} levels", limit=MAX_EXTENSION_DEPTH)
            )


def _depth(value: Any) -> int:
    """How deep lists and objects nest in a JSON value (iterative: the value may be a bomb)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_EXTENSION_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _shown(value: Any) -> str:
    """A value for an error message: short, and never the repr of a huge or deep structure."""
    return repr(value[:60]) if isinstance(value, str) else L_("a {type}", type=type(value).__name__)


def _list(value: Any, where: str, check: Callable[[Any, str], None]) -> None:
    if not isinstance(value, list):
        raise InvalidStatement(where, L_("must be a list"))
    for i, item in enumerate(value):
        check(item, f"{where}[{i}]")


def _object_type(value: dict[str, Any], default: str) -> str:
    kind = value.get("objectType", default)
    return kind if isinstance(kind, str) else ""


def _actor(value: Any, where: str) -> None:
    kind = _object_type(_object(value, where), "Agent")
    if kind == "Agent":
        _agent(value, where)
    elif kind == "Group":
        _group(value, where)
    else:
        raise InvalidStatement(
            f"{where}.objectType",
            L_("must be Agent or Group, not {value}", value=_shown(value.get("objectType"))),
        )


def _agent(value: Any, where: str) -> None:
    _object(value, where)
    _keys(value, where, allowed=tuple(AGENT_KEYS))
    if _object_type(value, "Agent") != "Agent":
        raise InvalidStatement(f"{where}.objectType", L_("must be Agent"))
    if _identifiers(value, where) != 1:
        raise InvalidStatement(where, L_("an Agent needs exactly one of mbox, mbox_sha1sum, openid, account"))


def _group(value: dict[str, Any], where: str) -> None:
    _keys(value, where, allowed=(*AGENT_KEYS, "member"))
    found = _identifiers(value, where)
    if found > 1:
        raise InvalidStatement(where, L_("a Group has at most one of mbox, mbox_sha1sum, openid, account"))
    if "member" in value:
        _list(value["member"], f"{where}.member", _agent)
    elif found == 0:
        raise InvalidStatement(f"{where}.member", L_("an anonymous Group (no identifier) needs its members"))


def _identifiers(value: dict[str, Any], where: str) -> int:
    """Check each inverse functional identifier present; returns how many there are."""
    if "name" in value:
        _string(value["name"], f"{where}.name")
    if "mbox" in value and not (isinstance(value["mbox"], str) and MAILTO_RE.match(value["mbox"])):
        raise InvalidStatement(f"{where}.mbox", L_("must be mailto:name@example.com"))
    if "mbox_sha1sum" in value and not (
        isinstance(value["mbox_sha1sum"], str) and SHA1_RE.match(value["mbox_sha1sum"])
    ):
        raise InvalidStatement(f"{where}.mbox_sha1sum", L_("must be 40 hexadecimal digits"))
    if "openid" in value:
        _iri(value["openid"], f"{where}.openid")
    if "account" in value:
        account = _object(value["account"], f"{where}.account")
        _keys(account, f"{where}.account", required=("homePage", "name"), allowed=("homePage", "name"))
        _iri(account["homePage"], f"{where}.account.homePage")
        _string(account["name"], f"{where}.account.name")
    return sum(1 for key in IFI_KEYS if key in value)


def _verb(value: Any, where: str) -> None:
    _keys(_object(value, where), where, required=("id",), allowed=("id", "display"))
    _iri(value["id"], f"{where}.id")
    if "display" in value:
        _language_map(value["display"], f"{where}.display")


def _statement_object(value: Any, where: str, *, sub: bool) -> None:
    kind = _object_type(_object(value, where), "Activity")
    if kind == "Activity":
        _activity(value, where)
    elif kind in ("Agent", "Group"):
        _actor(value, where)
    elif kind == "StatementRef":
        _statement_ref(value, where)
    elif kind == "SubStatement" and not sub:
        _keys(
            value,
            where,
            required=("actor", "verb", "object"),
            allowed=(
                "objectType",
                "actor",
                "verb",
                "object",
                "result",
                "context",
                "timestamp",
                "attachments",
            ),
        )
        _statement_body(value, where + ".")
    elif kind == "SubStatement":
        raise InvalidStatement(where, L_("a SubStatement cannot contain another SubStatement"))
    else:
        raise InvalidStatement(
            f"{where}.objectType", L_("{value} is not an object type", value=_shown(value.get("objectType")))
        )


def _statement_ref(value: Any, where: str) -> None:
    _keys(_object(value, where), where, required=("objectType", "id"), allowed=("objectType", "id"))
    if value["objectType"] != "StatementRef":
        raise InvalidStatement(f"{where}.objectType", L_("must be StatementRef"))
    _uuid(value["id"], f"{where}.id")


def _activity(value: Any, where: str) -> None:
    _keys(_object(value, where), where, required=("id",), allowed=("objectType", "id", "definition"))
    _iri(value["id"], f"{where}.id")
    if "definition" in value:
        _definition(value["definition"], f"{where}.definition")


def _definition(value: Any, where: str) -> None:
    _keys(
        _object(value, where),
        where,
        allowed=DEFINITION_KEYS,
    )
    for key in ("name", "description"):
        if key in value:
            _language_map(value[key], f"{where}.{key}")
    for key in ("type", "moreInfo"):
        if key in value:
            _iri(value[key], f"{where}.{key}")
    if "extensions" in value:
        _extensions(value["extensions"], f"{where}.extensions")
    if "interactionType" in value and value["interactionType"] not in INTERACTION_TYPES:
        raise InvalidStatement(
            f"{where}.interactionType",
            L_("{value} is not one of the spec's", value=_shown(value["interactionType"])),
        )
    if "correctResponsesPattern" in value:
        _list(value["correctResponsesPattern"], f"{where}.correctResponsesPattern", _string)
    for key in INTERACTION_COMPONENTS:
        if key in value:
            if "interactionType" not in value:
                raise InvalidStatement(
                    f"{where}.{key}", L_("only an interaction (with interactionType) has {key}", key=key)
                )
            _list(value[key], f"{where}.{key}", _interaction_component)


def _interaction_component(value: Any, where: str) -> None:
    _keys(_object(value, where), where, required=("id",), allowed=("id", "description"))
    _string(value["id"], f"{where}.id")
    if "description" in value:
        _language_map(value["description"], f"{where}.description")


def _result(value: Any, where: str) -> None:
    _keys(
        _object(value, where),
        where,
        allowed=("score", "success", "completion", "response", "duration", "extensions"),
    )
    if "score" in value:
        _score(value["score"], f"{where}.score")
    for key in ("success", "completion"):
        if key in value:
            _boolean(value[key], f"{where}.{key}")
    if "response" in value:
        _string(value["response"], f"{where}.response")
    if "duration" in value and not (
        isinstance(value["duration"], str) and DURATION_RE.match(value["duration"])
    ):
        raise InvalidStatement(
            f"{where}.duration",
            L_("{value} is not an ISO 8601 duration (e.g. PT1H30M)", value=_shown(value["duration"])),
        )
    if "extensions" in value:
        _extensions(value["extensions"], f"{where}.extensions")


def _score(value: Any, where: str) -> None:
    _keys(_object(value, where), where, allowed=("scaled", "raw", "min", "max"))
    numbers = {
        key: _number(value[key], f"{where}.{key}") for key in ("scaled", "raw", "min", "max") if key in value
    }
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise InvalidStatement(f"{where}.scaled", L_("must be between -1 and 1"))
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and high <= low:
        raise InvalidStatement(where, L_("max must be greater than min"))
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise InvalidStatement(f"{where}.raw", L_("must lie between min and max"))


def _context(value: Any, where: str, *, object_is_activity: bool) -> None:
    _keys(
        _object(value, where),
        where,
        allowed=CONTEXT_KEYS,
    )
    if "registration" in value:
        _uuid(value["registration"], f"{where}.registration")
    if "instructor" in value:
        _actor(value["instructor"], f"{where}.instructor")
    if "team" in value:
        if _object_type(_object(value["team"], f"{where}.team"), "Agent") != "Group":
            raise InvalidStatement(f"{where}.team", L_("must be a Group"))
        _actor(value["team"], f"{where}.team")
    if "contextActivities" in value:
        _context_activities(value["contextActivities"], f"{where}.contextActivities")
    for key in ("revision", "platform"):
        if key in value:
            _string(value[key], f"{where}.{key}")
            if not object_is_activity:
                raise InvalidStatement(f"{where}.{key}", L_("only for a statement about an Activity"))
    if "language" in value and not (
        isinstance(value["language"], str) and LANGUAGE_RE.match(value["language"])
    ):
        raise InvalidStatement(
            f"{where}.language", L_("{value} is not a language tag", value=_shown(value["language"]))
        )
    if "statement" in value:
        _statement_ref(value["statement"], f"{where}.statement")
    if "extensions" in value:
        _extensions(value["extensions"], f"{where}.extensions")
    if "contextAgents" in value:
        _list(value["contextAgents"], f"{where}.contextAgents", _context_agent)
    if "contextGroups" in value:
        _list(value["contextGroups"], f"{where}.contextGroups", _context_group)


def _context_agent(value: Any, where: str) -> None:
    """xAPI 2.0: {objectType: contextAgent, agent, relevantTypes: [IRI, ...]}."""
    _keys(
        _object(value, where),
        where,
        required=("objectType", "agent"),
        allowed=("objectType", "agent", "relevantTypes"),
    )
    if value["objectType"] != "contextAgent":
        raise InvalidStatement(f"{where}.objectType", L_("must be contextAgent"))
    _agent(value["agent"], f"{where}.agent")
    _relevant_types(value, where)


def _context_group(value: Any, where: str) -> None:
    """xAPI 2.0: {objectType: contextGroup, group, relevantTypes: [IRI, ...]}."""
    _keys(
        _object(value, where),
        where,
        required=("objectType", "group"),
        allowed=("objectType", "group", "relevantTypes"),
    )
    if value["objectType"] != "contextGroup":
        raise InvalidStatement(f"{where}.objectType", L_("must be contextGroup"))
    if _object_type(_object(value["group"], f"{where}.group"), "Agent") != "Group":
        raise InvalidStatement(f"{where}.group", L_("must be a Group"))
    _actor(value["group"], f"{where}.group")
    _relevant_types(value, where)


def _relevant_types(value: dict[str, Any], where: str) -> None:
    if "relevantTypes" in value:
        _list(value["relevantTypes"], f"{where}.relevantTypes", _iri)
        if not value["relevantTypes"]:
            raise InvalidStatement(f"{where}.relevantTypes", L_("must not be empty"))


def _context_activities(value: Any, where: str) -> None:
    for kind, activities in _object(value, where).items():
        if kind not in CONTEXT_ACTIVITY_KINDS:
            raise InvalidStatement(where, L_("unknown property {value}", value=_shown(kind)))
        if isinstance(activities, list):  # a single Activity is allowed too (1.0.3, 2.4.6.2)
            _list(activities, f"{where}.{kind}", _context_activity)
        else:
            _context_activity(activities, f"{where}.{kind}")


def _context_activity(value: Any, where: str) -> None:
    if _object_type(_object(value, where), "Activity") != "Activity":
        raise InvalidStatement(f"{where}.objectType", L_("must be Activity"))
    _activity(value, where)


def _attachment(value: Any, where: str) -> None:
    _keys(
        _object(value, where),
        where,
        required=("usageType", "display", "contentType", "length", "sha2"),
        allowed=("usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"),
    )
    _iri(value["usageType"], f"{where}.usageType")
    _language_map(value["display"], f"{where}.display")
    if "description" in value:
        _language_map(value["description"], f"{where}.description")
    _string(value["contentType"], f"{where}.contentType")
    if isinstance(value["length"], bool) or not isinstance(value["length"], int) or value["length"] < 0:
        raise InvalidStatement(f"{where}.length", L_("must be a whole number of bytes"))
    _string(value["sha2"], f"{where}.sha2")
    if "fileUrl" in value:
        _iri(value["fileUrl"], f"{where}.fileUrl")


def _timestamp(value: Any, where: str) -> None:
    match = TIMESTAMP_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidStatement(where, L_("{value} is not an ISO 8601 date and time", value=_shown(value)))
    if match.group("zone") in ("-00", "-0000", "-00:00"):
        raise InvalidStatement(where, L_("the offset -00:00 is not allowed (use Z or +00:00)"))
    try:
        parse_timestamp(value)
    except ValueError:
        raise InvalidStatement(
            where, L_("{value} is not a real date and time", value=_shown(value))
        ) from None


def parse_timestamp(value: str) -> datetime:
    """An xAPI timestamp as an aware datetime; one without a zone is read as UTC."""
    text = value.replace(",", ".")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _version(value: Any, where: str) -> None:
    if not isinstance(value, str) or not re.match(r"^(?:1\.0(?:\.\d+)?|2\.0(?:\.\d+)?)$", value):
        raise InvalidStatement(
            where, L_("{value} is not an xAPI version 1.0.x or 2.0.x", value=_shown(value))
        )
