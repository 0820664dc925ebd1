"""Surveys' part of data rights: a person's named answers in their export; erasing removes their
free-text answers (named ballots, and their anonymous ballot, found again by its token) and keeps
their choices, which the results count. Anonymous answers are never exported: the promise is that
nobody, operators included, can see who answered what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.capabilities.surveys.ballots import ballot_secret, ballot_token
from bot.capabilities.surveys.models import Survey, SurveyBallot, SurveyParticipation
from bot.core.registry import personal_data
from bot.core.settings import Settings


async def _ballots(
    session: AsyncSession, person_id: int, settings: Settings
) -> list[tuple[Survey, SurveyBallot]]:
    """This person's ballots: named ones through their participation, anonymous ones by token."""
    found = []
    rows = await session.exec(
        select(SurveyParticipation, Survey)
        .join(Survey, Survey.id == SurveyParticipation.survey_id)  # type: ignore[arg-type]
        .where(SurveyParticipation.person_id == person_id)
    )
    for participation, survey in rows.all():
        ballot: SurveyBallot | None
        if survey.anonymous:
            token = ballot_token(ballot_secret(settings), survey.id or 0, person_id)
            ballot = (
                await session.exec(
                    select(SurveyBallot).where(
                        SurveyBallot.survey_id == survey.id, SurveyBallot.token == token
                    )
                )
            ).first()
        elif participation.ballot_id:
            ballot = await session.get(SurveyBallot, (survey.id, participation.ballot_id))
        else:
            ballot = None
        if ballot is not None:
            found.append((survey, ballot))
    return found


async def export(session: AsyncSession, person_id: int, settings: Settings) -> dict[str, Any]:
    named = [
        {"survey_id": survey.id, "title": survey.title, "answers": ballot.answers}
        for survey, ballot in await _ballots(session, person_id, settings)
        if not survey.anonymous
    ]
    return {"named_survey_answers": named} if named else {}


async def erase(session: AsyncSession, person_id: int, now: datetime, settings: Settings) -> dict[str, int]:
    erased = 0
    for survey, ballot in await _ballots(session, person_id, settings):
        free_text = {q["id"] for q in survey.questions if q.get("kind") == "text"}
        if free_text & set(ballot.answers):
            ballot.answers = {k: v for k, v in ballot.answers.items() if k not in free_text}
            session.add(ballot)
            erased += 1
    return {"free_text_answers": erased}


personal_data("surveys", export=export, erase=erase)
