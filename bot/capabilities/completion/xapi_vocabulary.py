"""The verbs, activity types and activity ids cohortbot's outgoing statements use (see README, "xAPI out").

ADL and cmi5 vocabulary where it has a word (attended, answered, completed, passed, failed; the
course / module / meeting / assessment activity types); Activity Streams' `win` for a challenge
won; for an absence, which no public vocabulary names, verbs under the deployment's own
`XAPI_ACTIVITY_BASE`. Activity ids follow `<base>/cohorts/<cohort>/...`, the same pattern the
statements resource reads back.
"""

from __future__ import annotations

from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"

ATTENDED = {"id": ADL + "attended", "display": {"en-US": "attended"}}
ANSWERED = {"id": ADL + "answered", "display": {"en-US": "answered"}}
VOIDED = {"id": ADL + "voided", "display": {"en-US": "voided"}}
WON = {"id": "http://activitystrea.ms/schema/1.0/win", "display": {"en-US": "won"}}


def completion_verb(status: str) -> dict[str, Any]:
    """completed | passed | failed, the cmi5 "defined" verbs (ADL's ids)."""
    verb = status if status in ("completed", "passed", "failed") else "completed"
    return {"id": ADL + verb, "display": {"en-US": verb}}


def absent(base: str, status: str) -> dict[str, Any]:
    """absent, or excused (an approved absence)."""
    word = "excused" if status == "excused" else "absent"
    return {"id": f"{base}/verbs/{word}", "display": {"en-US": word}}


def attendance_status(base: str) -> str:
    """The result extension carrying the recorded status (present, late, absent, excused)."""
    return f"{base}/extensions/attendance-status"


def points(base: str) -> str:
    return f"{base}/extensions/points"


def _activity(activity_id: str, kind: str, name: str | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": kind}
    if name:
        definition["name"] = {"en-US": name}
    return {"objectType": "Activity", "id": activity_id, "definition": definition}


def cohort_id(base: str, slug: str) -> str:
    return f"{base}/cohorts/{slug}"


def session_activity(base: str, slug: str, session_id: int, title: str) -> dict[str, Any]:
    return _activity(f"{cohort_id(base, slug)}/sessions/{session_id}", ADL_ACTIVITIES + "meeting", title)


def module_activity(base: str, slug: str, module_id: int, title: str, lms_id: str | None) -> dict[str, Any]:
    """A module's LMS activity id when it is linked (`lms-id`), so the LRS files it with the LMS's."""
    return _activity(
        lms_id or f"{cohort_id(base, slug)}/modules/{module_id}", ADL_ACTIVITIES + "module", title
    )


def survey_activity(base: str, slug: str, survey_id: Any) -> dict[str, Any]:
    return _activity(f"{cohort_id(base, slug)}/surveys/{survey_id}", ADL_ACTIVITIES + "assessment")


def challenge_activity(base: str, slug: str, challenge_id: Any) -> dict[str, Any]:
    return _activity(f"{cohort_id(base, slug)}/challenges/{challenge_id}", ADL_ACTIVITIES + "assessment")


def context(base: str, slug: str) -> dict[str, Any]:
    """Every statement is filed under its cohort (a course, in ADL's words)."""
    return {
        "platform": "cohortbot",
        "contextActivities": {"parent": [_activity(cohort_id(base, slug), ADL_ACTIVITIES + "course")]},
    }
