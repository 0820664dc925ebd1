"""The demo's attendance part: a declared and approved absence, one correction, the sheet and files."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlmodel import col, select

from bot.capabilities.attendance import checkpoints, exports
from bot.capabilities.attendance.checkpoint_events import reason_words
from bot.capabilities.attendance.keys import chain_secret
from bot.capabilities.attendance.sheets import cohort_sheets, learner_summaries
from bot.capabilities.attendance.verification import compare, verify
from bot.core.exports import cohort_folder
from bot.core.i18n import _
from bot.core.models import Cohort, LiveSession
from bot.core.registry import demo_section, demo_setup

if TYPE_CHECKING:
    from bot.core.demo_script import DemoRun as Demo

ABSENT_LEARNER = "bruno"


async def _cohort_and_sessions(demo: Demo) -> tuple[Cohort, list[LiveSession]]:
    from bot.core.demo_script import COHORT

    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == COHORT))).one()
        lives = (
            await session.exec(
                select(LiveSession)
                .where(LiveSession.cohort_id == cohort.id)
                .order_by(col(LiveSession.starts_at))
            )
        ).all()
    return cohort, list(lives)


@demo_setup(50)
async def declare_an_absence(demo: Demo) -> None:
    """Bruno can't make the third session; the trainer approves it before it happens."""
    from bot.core.demo_script import COHORT, TRAINER

    _, lives = await _cohort_and_sessions(demo)
    third = lives[2]
    await demo.say(ABSENT_LEARNER, f"absent {COHORT} #{third.id} dentist appointment")
    await demo.say(TRAINER, f"absences {COHORT}")
    await demo.say(TRAINER, f"excuse {COHORT} 1")
    demo.print("")


@demo_section(90)  # late: the demo ends with the attendance sheet
async def attendance_sheets(demo: Demo) -> None:
    from bot.core.demo_script import COHORT, TRAINER

    cohort, lives = await _cohort_and_sessions(demo)
    demo.print(_("-- attendance --"))
    first = lives[0]
    async with demo.app.store.transaction() as session:
        sheets = await cohort_sheets(session, cohort)
    absent = next((r.name for r in sheets[0].rows if r.status == "absent"), None)
    if absent is not None:
        await demo.say(
            TRAINER, f"correct {COHORT} {absent} present #{first.id} signed the paper sheet instead"
        )
    out = cohort_folder(demo.app.settings.export_dir, COHORT, "attendance")  # beside the demo database
    async with demo.app.store.transaction() as session:
        sheets = await cohort_sheets(session, cohort)
        # One session's sheet and the per-learner summary; `cohortbot export attendance` writes them all.
        paths = exports.write_session(sheets[0], out, demo.clock.now())
        paths += exports.write_summary(cohort, learner_summaries(sheets), out, demo.clock.now())
        checked = await verify(session, chain_secret(demo.app.settings))
        latest = await checkpoints.latest(session)
    lost = compare(checked, json.loads(latest.body)) if latest is not None else []
    demo.print(exports.render_session_text(sheets[0]))
    demo.print("")
    for sheet in sheets:
        demo.print(f"  #{sheet.live.id} {sheet.live.title:<16} {sheet.totals_line()}")
    demo.print(_("files: {files} in {folder}/", files=", ".join(p.name for p in paths), folder=str(out)))
    verdict = "OK" if checked.ok and not lost else "; ".join(map(str, [*checked.problems, *lost]))
    demo.print(
        _(
            "evidence verify: {verdict} ({records} records in {chains} chains)",
            verdict=verdict,
            records=checked.records,
            chains=checked.chains,
        )
    )
    if latest is not None:
        demo.print(
            _(
                "latest signed checkpoint: {at} ({reason}), {records} records; "
                "`cohortbot audit {cohort}` packs it with everything else",
                at=checkpoints.iso(latest.at),
                reason=reason_words(latest.reason),
                records=latest.records,
                cohort=COHORT,
            )
        )
