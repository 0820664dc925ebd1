"""The French certificate of completion is a "certificat de réalisation": the provider's name and
declaration number, the trainee, the training's title and nature, its dates written the French way,
and the hours actually attended (French decimals), as the CLI writes it for a French cohort."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import select

from bot.core.models import Cohort, Completion
from tests.capabilities.reports_fixture import build_fixture
from tests.capabilities.test_reports_exports import run_cli
from tests.conftest import Chat


async def test_a_french_cohort_gets_a_certificat_de_realisation(
    chat: Chat, db_url: str, tmp_path: Path
) -> None:
    fixture = await build_fixture(chat)
    async with fixture.app.store.transaction() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.id == fixture.cohort.id))).one()
        cohort.lang = "fr"  # a document for an auditor is in the cohort's language
        session.add(cohort)
        session.add(
            Completion(
                cohort_id=fixture.cohort.id or 0,
                module_id=fixture.modules["M3"],
                person_id=fixture.ids["ann"],
                status="passed",
                score=92.5,
                source="xapi",
                at=datetime(2027, 3, 20, 10, 0, tzinfo=UTC),
            )
        )
    result = await run_cli(
        db_url,
        "export",
        "certificates",
        "--cohort",
        "spoc",
        "--out",
        str(tmp_path),
        "--at",
        "2027-03-29",
        PROVIDER_NAME="Académie Lumière",
        PROVIDER_ID="11 75 12345 75",
    )
    assert result.exit_code == 0, result.output
    (pdf,) = sorted(tmp_path.glob("*.pdf"))  # noqa: ASYNC240
    pages = await asyncio.to_thread(lambda: [p.extract_text() for p in PdfReader(pdf).pages])
    text = " ".join(" ".join(pages).split())
    for expected in (
        "Certificat de réalisation",
        "Académie Lumière",
        "Numéro de déclaration d'activité : 11 75 12345 75",
        "atteste que",
        "ann",
        "Intitulé de l'action : spoc",
        "Nature de l'action concourant au développement des compétences : action de formation",
        "Dates de réalisation : du lundi 1 mars 2027 au vendredi 26 mars 2027",
        "M3 : réussi le samedi 20 mars 2027, source xapi, note 92,5",
        "Assiduité : 2 séances suivies sur 2",
        "Cachet et signature",
    ):
        assert expected in text, (expected, text[text.find(expected[:12]) :][:120])
    assert re.search(r"Durée effectivement suivie : \d+,\d\d heures", text)  # a French decimal comma
    assert "Certificate" not in text and "Hours attended" not in text
