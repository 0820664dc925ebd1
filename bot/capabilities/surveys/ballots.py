"""Recording answers: the ballot token that keeps anonymous answers replaceable but unlinkable.

An anonymous ballot is found again by `token = HMAC(secret, "survey:person")`. The secret is not
in the database, so someone holding only the database cannot recompute tokens to link ballots
to people. Where the secret comes from, in order:
1. `SURVEY_SECRET` (settings / `.env`): the one to set in production;
2. derived from a platform secret the bot already holds outside the database (Slack signing
   secret or bot token, Bot Framework password), with its own label so it reveals nothing of it;
3. SQLite only (console, demo, tests): a random secret generated once into `<db file>.survey-secret`
   (mode 0600) next to the database: a copy of the `.db` file alone still cannot link ballots.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.capabilities.surveys.models import Survey, SurveyBallot, SurveyParticipation
from bot.capabilities.surveys.questions import QuestionSpec
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import _
from bot.core.settings import Settings

_LABEL = b"cohortbot survey ballots v1"


def ballot_secret(settings: Settings) -> bytes:
    if settings.survey_secret is not None:
        return settings.survey_secret.get_secret_value().encode()
    for candidate in (
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.microsoft_app_password,
    ):
        if candidate is not None:
            return hmac.new(candidate.get_secret_value().encode(), _LABEL, hashlib.sha256).digest()
    return _secret_file(settings.database_url)


_FILE_SECRETS: dict[str, bytes] = {}  # read once per process: no file I/O on every answer


def _secret_file(database_url: str) -> bytes:
    if database_url in _FILE_SECRETS:
        return _FILE_SECRETS[database_url]
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        raise UserError(_("Anonymous surveys need SURVEY_SECRET set on the server. Ask your administrator."))
    path = Path(url.database + ".survey-secret")
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    _FILE_SECRETS[database_url] = path.read_text().strip().encode()
    return _FILE_SECRETS[database_url]


def ballot_token(secret: bytes, survey_id: int, person_id: int) -> str:
    return hmac.new(secret, f"{survey_id}:{person_id}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Recorded:
    answers: dict[str, Any]  # everything this person has answered so far
    complete: bool
    first_completion: bool  # true once: when the ballot becomes complete for the first time


async def record(
    ctx: Ctx, survey: Survey, participation: SurveyParticipation, answers: dict[str, Any]
) -> Recorded:
    """Merge validated answers into the person's ballot (a changed answer replaces the old one)."""
    ballot = await _find_ballot(ctx, survey, participation)
    if ballot is None:
        token = None
        if survey.anonymous:
            token = ballot_token(ballot_secret(ctx.settings), survey.id or 0, participation.person_id)
        ballot = SurveyBallot(survey_id=survey.id or 0, token=token)
        if not survey.anonymous:
            participation.ballot_id = ballot.id
    ballot.answers = {**ballot.answers, **answers}
    required = [QuestionSpec.from_dict(q) for q in survey.questions if q["kind"] != "text"]
    ballot.complete = all(q.id in ballot.answers for q in required) and bool(ballot.answers)
    first = ballot.complete and not participation.answered
    if ballot.complete:
        participation.answered = True
    ctx.session.add(ballot)
    await ctx.session.flush()  # the ballot row before the participation that may point at it
    ctx.session.add(participation)
    return Recorded(dict(ballot.answers), ballot.complete, first)


async def current_answers(ctx: Ctx, survey: Survey, participation: SurveyParticipation) -> dict[str, Any]:
    ballot = await _find_ballot(ctx, survey, participation)
    return dict(ballot.answers) if ballot else {}


async def _find_ballot(ctx: Ctx, survey: Survey, participation: SurveyParticipation) -> SurveyBallot | None:
    if not survey.anonymous:
        return (
            await ctx.session.get(SurveyBallot, (survey.id, participation.ballot_id))
            if participation.ballot_id
            else None
        )
    token = ballot_token(ballot_secret(ctx.settings), survey.id or 0, participation.person_id)
    query = select(SurveyBallot).where(SurveyBallot.survey_id == survey.id, SurveyBallot.token == token)
    return (await ctx.session.exec(query)).first()
