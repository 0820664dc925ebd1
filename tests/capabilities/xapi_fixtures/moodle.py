"""Statements in the shapes Moodle's logstore_xapi plugin sends: the actor is an `account` whose
homePage is the site URL and whose name is the numeric user id; course modules are
`<site>/mod/<type>/view.php?id=<cmid>`; context carries the site and course as grouping and
Moodle as category, with `platform: Moodle` and a Learning Locker info extension."""

from __future__ import annotations

import uuid
from typing import Any

SITE = "https://moodle.example.edu"
COURSE = f"{SITE}/course/view.php?id=12"
VERBS = {
    "viewed": "http://id.tincanapi.com/verb/viewed",
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
}


def module_url(cmid: int, kind: str = "quiz") -> str:
    return f"{SITE}/mod/{kind}/view.php?id={cmid}"


def statement(verb: str, user_id: int, cmid: int, *, n: int, **result: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SITE}/{verb}/{user_id}/{cmid}/{n}")),
        "actor": {"name": f"Learner {user_id}", "account": {"homePage": SITE, "name": str(user_id)}},
        "verb": {"id": VERBS[verb], "display": {"en": verb}},
        "object": {
            "id": module_url(cmid),
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/assessment",
                "name": {"en": f"Quiz {cmid}"},
                "extensions": {
                    "https://w3id.org/learning-analytics/learning-management-system/external-id": cmid
                },
            },
            "objectType": "Activity",
        },
        "timestamp": "2027-03-02T09:15:00+00:00",
        "context": {
            "platform": "Moodle",
            "language": "en",
            "extensions": {
                "http://lrs.learninglocker.net/define/extensions/info": {
                    "https://moodle.org/": "4.1.2 (Build: 20230313)",
                    "event_name": "\\mod_quiz\\event\\course_module_viewed",
                    "event_function": "\\src\\transformer\\events\\mod_quiz\\course_module_viewed",
                },
            },
            "contextActivities": {
                "grouping": [
                    {
                        "id": SITE,
                        "definition": {
                            "type": "http://id.tincanapi.com/activitytype/lms",
                            "name": {"en": "Moodle"},
                        },
                        "objectType": "Activity",
                    },
                    {
                        "id": COURSE,
                        "definition": {
                            "type": "http://id.tincanapi.com/activitytype/lms/course",
                            "name": {"en": "SPOC"},
                        },
                        "objectType": "Activity",
                    },
                ],
                "category": [
                    {
                        "id": "http://moodle.org",
                        "definition": {
                            "type": "http://id.tincanapi.com/activitytype/source",
                            "name": {"en": "Moodle"},
                        },
                        "objectType": "Activity",
                    }
                ],
            },
        },
    }
    if result:
        data["result"] = result
    return data


def course_batch(
    user_ids: list[int], cmid: int, completers: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """What a Moodle site emits for a quiz: every learner views and attempts it, answers two
    questions; the ones in `completers` also complete it (with their result)."""
    batch = []
    for user_id in user_ids:
        batch.append(statement("viewed", user_id, cmid, n=1))
        batch.append(statement("attempted", user_id, cmid, n=2))
        batch.append(statement("answered", user_id, cmid, n=3, response="b", success=True))
        batch.append(statement("answered", user_id, cmid, n=4, response="a", success=False))
        if user_id in completers:
            batch.append(statement("completed", user_id, cmid, n=5, **completers[user_id]))
    return batch
