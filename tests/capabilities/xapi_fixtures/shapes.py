"""Valid and invalid statements, one rule each, written from the xAPI 1.0.3 specification."""

from __future__ import annotations

import copy
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
ACTIVITY = "http://www.example.com/meetings/occurances/34534"


def base(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "Project Tin Can API", "mbox": "mailto:user@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/created", "display": {"en-US": "created"}},
        "object": {
            "id": "http://example.adlnet.gov/xapi/example/simplestatement",
            "definition": {
                "name": {"en-US": "simple statement"},
                "description": {"en-US": "A simple Experience API statement."},
            },
        },
        "timestamp": "2012-05-01T10:00:00Z",
    }
    statement.update(copy.deepcopy(changes))
    return statement


VALID: dict[str, dict[str, Any]] = {
    "minimal without id": {k: v for k, v in base().items() if k not in ("id", "timestamp")},
    "mbox_sha1sum actor": base(actor={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}),
    "openid actor": base(actor={"openid": "http://openid.example.org/12345"}),
    "account actor": base(actor={"account": {"homePage": "http://www.example.com", "name": "1625378"}}),
    "identified group": base(
        actor={"objectType": "Group", "name": "Team", "mbox": "mailto:team@example.com"}
    ),
    "anonymous group": base(
        actor={
            "objectType": "Group",
            "member": [
                {"mbox": "mailto:a@example.com"},
                {"account": {"homePage": "http://x.org", "name": "b"}},
            ],
        }
    ),
    "agent object": base(
        verb={"id": ADL + "mentored", "display": {"en-US": "mentored"}},
        object={"objectType": "Agent", "mbox": "mailto:mentee@example.com"},
    ),
    "statement ref object": base(
        verb={"id": ADL + "commented"},
        object={"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
    ),
    "sub statement": base(
        verb={"id": "http://example.com/planned", "display": {"en-US": "planned"}},
        object={
            "objectType": "SubStatement",
            "actor": {"objectType": "Agent", "mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {
                "id": "http://example.com/website",
                "definition": {"name": {"en-US": "Some Awesome Website"}},
            },
        },
    ),
    "timestamp without zone": base(timestamp="2012-05-01T10:00:00.123"),
    "timestamp with offset": base(timestamp="2012-05-01T10:00:00+05:30"),
    "full context and result": base(
        result={
            "completion": True,
            "success": True,
            "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
            "duration": "PT1H0M0S",
            "response": "We agreed on some example actions.",
            "extensions": {
                "http://example.com/profiles/meetings/resultextensions/minuteslocation": "X:\\x.docx"
            },
        },
        context={
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {
                "name": "Andrew Downes",
                "account": {"homePage": "http://www.example.com", "name": "13936749"},
            },
            "team": {"objectType": "Group", "name": "Team PB", "mbox": "mailto:teampb@example.com"},
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267", "objectType": "Activity"}],
                "category": {"id": "http://www.example.com/meetings/categories/teammeeting"},
                "other": [{"id": "http://www.example.com/meetings/occurances/34257"}],
            },
            "language": "en",
            "platform": "Example virtual meeting software",
            "revision": "1",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "extensions": {"http://example.com/profiles/meetings/contextextensions/topic": "Constructs"},
        },
    ),
    "interaction activity": base(
        verb={"id": ADL + "answered"},
        object={
            "id": "http://example.com/q1",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": ["golf[,]tetris"],
                "choices": [{"id": "golf", "description": {"en-US": "Golf Example"}}],
            },
        },
        result={"response": "golf"},
    ),
    "voiding": base(
        verb={"id": ADL + "voided", "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
    ),
    "version 1.0.0": base(version="1.0.0"),
    "xAPI 2.0 context agents and groups": base(
        version="2.0.0",
        context={
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:coach@example.com"},
                    "relevantTypes": ["https://example.com/roles/coach"],
                }
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {"objectType": "Group", "mbox": "mailto:g@example.com"},
                }
            ],
        },
    ),
}

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "two actor identifiers": (
        base(actor={"mbox": "mailto:a@example.com", "openid": "http://openid.example.org/1"}),
        "exactly one",
    ),
    "unknown property": (base(mood="happy"), "unknown property 'mood'"),
    "scheme-less verb IRI": (base(verb={"id": "example.com/verbs/did"}), "verb.id"),
    "scheme-less activity IRI": (base(object={"id": "www.example.com/thing"}), "object.id"),
    "non-UUID registration": (base(context={"registration": "not-a-uuid"}), "context.registration"),
    "display not a language map": (base(verb={"id": ADL + "created", "display": "created"}), "verb.display"),
    "bad language tag": (
        base(verb={"id": ADL + "created", "display": {"english please": "x"}}),
        "language tag",
    ),
    "null value": (base(result=None), "result: null is not allowed"),
    "null inside": (base(result={"success": None}), "result.success: null"),
    "account without homePage": (base(actor={"account": {"name": "42"}}), "actor.account.homePage: missing"),
    "mbox without mailto": (base(actor={"mbox": "user@example.com"}), "actor.mbox"),
    "sha1 not hex": (base(actor={"mbox_sha1sum": "xyz"}), "mbox_sha1sum"),
    "id not a UUID": (base(id="12345"), "id: '12345' is not a UUID"),
    "timestamp not ISO": (base(timestamp="May 1st 2012"), "timestamp"),
    "negative zero offset": (base(timestamp="2012-05-01T10:00:00-00:00"), "-00:00"),
    "scaled over 1": (base(result={"score": {"scaled": 1.5}}), "result.score.scaled"),
    "raw above max": (base(result={"score": {"raw": 11, "min": 0, "max": 10}}), "result.score.raw"),
    "bad duration": (base(result={"duration": "1 hour"}), "result.duration"),
    "group as agent member": (
        base(
            actor={"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}
        ),
        "member[0]",
    ),
    "anonymous group without members": (base(actor={"objectType": "Group", "name": "Nobody"}), "member"),
    "nested substatement": (
        base(
            object={
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": ADL + "x"},
                "object": {
                    "objectType": "SubStatement",
                    "actor": {"mbox": "mailto:a@example.com"},
                    "verb": {"id": ADL + "x"},
                    "object": {"id": ACTIVITY},
                },
            }
        ),
        "cannot contain another SubStatement",
    ),
    "substatement with id": (
        base(
            object={
                "objectType": "SubStatement",
                "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": ADL + "x"},
                "object": {"id": ACTIVITY},
            }
        ),
        "unknown property 'id'",
    ),
    "voiding an activity": (base(verb={"id": ADL + "voided"}), "StatementRef"),
    "platform on a non-activity": (
        base(object={"objectType": "Agent", "mbox": "mailto:b@example.com"}, context={"platform": "x"}),
        "context.platform",
    ),
    "bad interaction type": (
        base(object={"id": ACTIVITY, "definition": {"interactionType": "essay"}}),
        "interactionType",
    ),
    "extension key not an IRI": (base(result={"extensions": {"minutes": 3}}), "extensions key"),
    "version 0.95": (base(version="0.95"), "version"),
    "context agent that is a group": (
        base(
            context={
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"objectType": "Group", "mbox": "mailto:g@example.com"},
                    }
                ]
            }
        ),
        "contextAgents[0].agent",
    ),
    "missing verb": ({k: v for k, v in base().items() if k != "verb"}, "verb: missing"),
    "attachment missing sha2": (
        base(
            attachments=[
                {
                    "usageType": "http://x.org/u",
                    "display": {"en": "a"},
                    "contentType": "text/plain",
                    "length": 1,
                }
            ]
        ),
        "sha2: missing",
    ),
}
