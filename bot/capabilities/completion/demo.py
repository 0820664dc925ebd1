"""The demo's completion part: a learner's `done`, a trainer's `record`, and an LMS's xAPI statement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.capabilities.completion.statements import ADL_VERBS, parse_statements
from bot.capabilities.completion.xapi_store import receive_statements
from bot.core.i18n import _
from bot.core.registry import demo_section

if TYPE_CHECKING:
    from bot.core.demo_script import DemoRun as Demo

STATEMENT_ID = "6f1c2b9e-8d53-4c1e-9a77-0c4b5e2f1d10"


@demo_section(30)
async def completion_sources(demo: Demo) -> None:
    from bot.core.demo_script import COHORT, TRAINER

    demo.print(_("-- completion comes in three ways --"))
    await demo.say("alice", 'done "module 6"')
    await demo.say(TRAINER, f'record {COHORT} "Module 6" bruno score=92 status=passed')
    statement = {
        "id": STATEMENT_ID,
        "actor": {"account": {"homePage": "https://lms.example.com", "name": "chloe"}},
        "verb": {"id": ADL_VERBS + "passed"},
        "object": {"id": f"https://lms.example.com/cohorts/{COHORT}/modules/module-6"},
        "result": {"score": {"scaled": 0.85}},
    }
    for attempt in ("", " " + _("(the LMS retries it: stored once)")):
        now = demo.clock.now()
        ids = await receive_statements(
            demo.app.store, demo.app.settings, now, parse_statements(statement, now)
        )
        posted = _(
            "LMS: POST /xapi/statements {learner} passed {module} -> {ids}",
            learner="chloe",
            module="Module 6",
            ids=ids,
        )
        demo.print(f"[{demo.stamp()}] {posted}{attempt}")
    await demo.say("chloe", f"status {COHORT}")
