"""The demo's last word: maya's digest, the training-manager report, and the files written."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.capabilities.reports.certificates import Issuer
from bot.capabilities.reports.load import manager_links
from bot.capabilities.reports.render import NUDGE_ACTION, digest_message
from bot.capabilities.reports.service import build_report, export_certificates, export_report
from bot.core.exports import cohort_folder
from bot.core.i18n import _
from bot.core.inbound import Action, Inbound, Profile
from bot.core.models import Cohort, Person
from bot.core.registry import demo_section, demo_setup
from bot.core.render_text import render_text

MANAGER = "maya"


@demo_setup(90)
async def keep_files_next_to_the_demo_database(demo: Any) -> None:
    demo.app.settings.export_dir = str(demo.db_path.with_name(demo.db_path.stem + "-exports"))


@demo_section(90)
async def show_digest_and_report(demo: Any) -> None:
    from bot.core.demo_script import COHORT, TRAINER

    now = demo.clock.now()
    out = cohort_folder(demo.app.settings.export_dir, COHORT, "report")
    async with demo.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.slug == COHORT))).one()
        manager = (await session.exec(select(Person).where(Person.display_name == MANAGER))).one()
        team = (await manager_links(session, cohort.id or 0)).get(manager.id or 0, [])
        report = await build_report(session, cohort, now, person_ids=team, with_kpis=False)
        digest = digest_message(report, report.learners, tz=manager.tz or cohort.tz)
        files = await export_report(session, cohort, now, "csv", out)
        files += await export_report(session, cohort, now, "xlsx", out)
        issuer = Issuer(demo.app.settings.provider_name, demo.app.settings.provider_id)
        certificate_dir = cohort_folder(demo.app.settings.export_dir, COHORT, "certificates")
        certificates = await export_certificates(session, cohort, now, certificate_dir, issuer)
    demo.print(_("-- {manager}'s weekly digest --", manager=MANAGER))
    demo.print(render_text(digest))
    nudges = [b for b in digest.buttons() if b.action == NUDGE_ACTION]
    if nudges:
        reply = await demo.app.engine.handle(
            Inbound(
                sender=Profile("console", "", MANAGER, MANAGER),
                action=Action(nudges[0].action, nudges[0].value),
            )
        )
        await demo.app.worker.drain()
        # The reply marks who was nudged with a ✓ ("Nudged ✓", in the manager's language).
        nudged = [line for line in render_text(reply.message).splitlines() if "✓" in line] if reply else []
        demo.print(
            _(
                "{manager} pressed [{button}]: {outcome}",
                manager=MANAGER,
                button=nudges[0].label,
                outcome=nudged[0] if nudged else _("nothing changed"),
            )
        )
    demo.print("\n" + _("-- the training-manager report --"))
    await demo.say(TRAINER, f"report {COHORT}")
    demo.print("\n" + _("exports ({n} files) in {folder}", n=len(files), folder=str(out)))
    demo.print(
        _(
            "certificates: {n} learners completed every module, PDFs in {folder}",
            n=len(certificates),
            folder=str(certificate_dir),
        )
    )
