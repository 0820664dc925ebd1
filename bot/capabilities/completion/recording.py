"""The one way a completion is recorded, whatever its source: upsert `Completion`, log `module.completed`.

Recording is idempotent: the same completion twice changes nothing and logs nothing. An automatic
source (chat, CSV, xAPI) only ever improves a learner's result; a trainer's record may also correct it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select

from bot.core.context import EventContext
from bot.core.models import Completion, Module

STATUSES = ("completed", "passed", "failed")
DONE_STATUSES = ("completed", "passed")
SOURCES = ("chat", "trainer", "csv", "xapi")
# How good a status is, to decide whether a new report improves on the stored one.
_RANK = {"failed": 0, "completed": 1, "passed": 2}
COMPLETION = Completion.__table__  # type: ignore[attr-defined]

Outcome = Literal["new", "improved", "corrected", "unchanged"]


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    completion: Completion

    @property
    def changed(self) -> bool:
        return self.outcome != "unchanged"


def is_done(completion: Completion | None) -> bool:
    return completion is not None and completion.status in DONE_STATUSES


def _better(status: str, score: float | None, than: Completion) -> bool:
    """Is (status, score) a better result than the stored one? A known score beats an unknown one."""
    new_rank, old_rank = _RANK[status], _RANK[than.status]
    if new_rank != old_rank:
        return new_rank > old_rank
    if score is None:
        return False
    return than.score is None or score > than.score


async def record_completion(
    ctx: EventContext,
    module: Module,
    person_id: int,
    *,
    status: str,
    score: float | None,
    source: str,
    at: datetime,
    recorded_by: int | None,
    correction: bool = False,
    known: dict[tuple[int, int], Completion] | None = None,
) -> Recorded:
    """Record that `person_id` finished `module` at `at` with `status` and `score` (0..100).

    With `correction` (a trainer's record) the result is set as given even if it is worse.
    A bulk caller passes `known`, the cohort's completions by (module id, person id), loaded once
    and kept up to date here, to save a query per row.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown completion status {status!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown completion source {source!r}")
    if score is not None and not 0 <= score <= 100:
        raise ValueError(f"score {score} is outside 0..100")
    key = (module.id or 0, person_id)
    if known is None:
        existing = (
            await ctx.session.exec(
                select(Completion).where(Completion.module_id == module.id, Completion.person_id == person_id)
            )
        ).first()
    else:
        existing = known.get(key)
    if existing is None:
        row = Completion(
            cohort_id=module.cohort_id,
            module_id=module.id or 0,
            person_id=person_id,
            status=status,
            score=score,
            source=source,
            at=at,
            recorded_by=recorded_by,
        )
        outcome: Outcome = "new"
    elif (existing.status, existing.score) == (status, score):
        return Recorded("unchanged", existing)
    elif _better(status, score, existing):
        row, outcome = existing, "improved"
    elif correction:
        row, outcome = existing, "corrected"
    else:
        return Recorded("unchanged", existing)
    changes = {"status": status, "score": score, "source": source, "at": at, "recorded_by": recorded_by}
    await _write(ctx, row, changes)
    if known is not None:
        known[key] = row
    await ctx.log(
        "module.completed",
        cohort_id=module.cohort_id,
        person_id=person_id,
        actor_id=recorded_by,
        module_id=module.id,
        status=status,
        score=score,
        on_time=at <= module.due_at,
        source=source,
    )
    return Recorded(outcome, row)


# Built once with bound parameters: SQLAlchemy compiles each once, however many rows are recorded.
_INSERT = sa.insert(COMPLETION).returning(COMPLETION.c.id)
WRITTEN = ("status", "score", "source", "at", "recorded_by")
_UPDATE = (
    sa.update(COMPLETION)
    .where(COMPLETION.c.id == sa.bindparam("row_id"))
    .values({name: sa.bindparam(f"new_{name}") for name in WRITTEN})
)


async def _write(ctx: EventContext, row: Completion, changes: dict[str, Any]) -> None:
    """Insert or update the row with plain statements: a bulk import records thousands, and the
    ORM's unit of work (a flush before every activity listener) would cost more than the rows."""
    conn = await ctx.session.connection()
    if row.id is None:
        values = {
            "cohort_id": row.cohort_id,
            "module_id": row.module_id,
            "person_id": row.person_id,
            **changes,
        }
        changes = {**changes, "id": (await conn.execute(_INSERT, values)).scalar_one()}
    else:
        await conn.execute(_UPDATE, {"row_id": row.id, **{f"new_{k}": v for k, v in changes.items()}})
    for key, value in changes.items():
        # Keep a loaded object in step without marking it changed (that would write it again).
        set_committed_value(row, key, value)


async def withdraw_completion(
    ctx: EventContext,
    module: Module,
    person_id: int,
    *,
    source: str,
    fallback: tuple[str, float | None, datetime] | None,
) -> bool:
    """Undo what `source` recorded (a voided xAPI statement): the completion falls back to the best
    result `source` still vouches for, or is removed. A result another source set is left alone.
    Returns whether anything changed."""
    existing = (
        await ctx.session.exec(
            select(Completion).where(Completion.module_id == module.id, Completion.person_id == person_id)
        )
    ).first()
    if existing is None or existing.source != source:
        return False
    if fallback is not None and (existing.status, existing.score) == fallback[:2]:
        return False
    if fallback is None:
        await ctx.session.delete(existing)
    else:
        existing.status, existing.score, existing.at = fallback
        ctx.session.add(existing)
    await ctx.log(
        "module.completion_withdrawn",
        cohort_id=module.cohort_id,
        person_id=person_id,
        module_id=module.id,
        source=source,
        status=fallback[0] if fallback else None,
        score=fallback[1] if fallback else None,
    )
    return True


def best_result(
    results: list[tuple[str, float | None, datetime]],
) -> tuple[str, float | None, datetime] | None:
    """The best of several (status, score, at) results, by the same order recording uses."""
    best = None
    for status, score, at in results:
        if best is None or (_RANK[status], score if score is not None else -1.0) > (
            _RANK[best[0]],
            best[1] if best[1] is not None else -1.0,
        ):
            best = (status, score, at)
    return best
