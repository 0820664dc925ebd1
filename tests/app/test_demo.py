"""`cohortbot demo` runs a whole cohort through the engine and tells the story."""

from __future__ import annotations

import io
from pathlib import Path

from bot.app.demo import LEARNERS, Demo


async def test_the_demo_runs_six_weeks_and_prints_the_final_state(tmp_path: Path) -> None:
    out = io.StringIO()
    await Demo(tmp_path / "demo.db", out=out).run()
    text = out.getvalue()
    assert "a 6-week SPOC, 30 learners in 3 teams, 3 managers" in text
    assert "-> alice: Welcome to *demo-spoc*!" in text
    assert f"welcome                  {len(LEARNERS)}" in text
    assert "Learners  : 30" in text
    assert (tmp_path / "demo.db").exists()
    # The learners' HR data gives the report segments, and the export holds them.
    (segments,) = (tmp_path / "demo-exports").rglob("*-segments.csv")
    rows = segments.read_text().splitlines()
    assert len(rows) > 1 and any(row.startswith("site,Paris,") for row in rows)
    assert any(row.startswith("department,Sales,") for row in rows)


async def test_the_demo_is_reproducible(tmp_path: Path) -> None:
    first, second = io.StringIO(), io.StringIO()
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    await Demo(tmp_path / "one" / "demo.db", out=first, seed=3).run()
    await Demo(tmp_path / "two" / "demo.db", out=second, seed=3).run()
    assert first.getvalue().replace("/one/", "/two/") == second.getvalue()


async def test_the_demo_runs_in_french(tmp_path: Path) -> None:
    out = io.StringIO()
    await Demo(tmp_path / "demo.db", out=out, lang="fr").run()
    text = out.getvalue()
    assert "Cohorte *demo-spoc* créée (fuseau horaire Europe/Paris)" in text
    assert "10 personnes inscrites dans *demo-spoc*, équipe north" in text
    assert "-> alice: Bienvenue dans *demo-spoc* !" in text
    reminder = "Rappel : *Live session 1* commence le mardi 2 mars 2027, 14 h 00 (Europe/Paris)."
    assert f"-> alice: {reminder}" in text
    assert "[lun. 1 mars 08 h 00 (Europe/Paris)]" in text
    # Sentences joined from pieces follow French punctuation too (a space before the colon).
    assert "-> canal: Quiz n° 1 : south gagne" in text
    assert "-> canal: demo-spoc : classement, semaine du 8 mars : south en tête" in text
