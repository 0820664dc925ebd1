"""Plans cached per cohort, forgotten when a write may have changed them.

A resync used to run every planner over every cohort each minute: cohorts x learners of work
when nothing had changed. Now each cohort's planned events are kept, and the store's writes are
watched: a write to a table planners may read forgets the plans of the cohorts it names (its
`cohort_id` parameters, or the cohort row's own id), and forgets every plan when the statement
does not say which cohorts it touches (a person's time zone, a raw SQL write). ORM changes are
read before the flush, where each row's cohort is known before and after the change. Plans are also
forgotten at midnight UTC (a planner may plan "today and tomorrow"), and on SQLite whenever
another process committed (SQLite's `data_version`: a CLI import). A write that is rolled back
only costs a replan.

On PostgreSQL other instances write too and this process cannot see them: there the cache is
off and every resync replans (see the README's planning figures).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from schedules.events import PlannedEvent

# Written on clicks and sends, never read by a planner (fired events are filtered apart). Writes
# to any other table are taken to change plans (and prepared_insert.py refuses them).
NOT_PLAN_INPUTS = frozenset(
    {
        "processed_inbound", "outbox", "fired_event", "activity", "identity", "identity_lookup",
        "report_attendance", "report_last_seen", "points_entry", "points_total", "attendance_record",
        "absence_request", "code_failure", "evidence_checkpoint", "reminder_log", "survey_ballot",
        "survey_participation", "challenge_entry", "xapi_statement", "xapi_activity", "lms_account",
        # delivery's own bookkeeping (a plan change bumps plan_version: it must not clear every plan)
        "plan_version", "send_budget", "delivery_instance",
        "teams_conversation", "slack_installations", "slack_bots", "slack_oauth_states",
    }
)  # fmt: skip
# A new person plans nothing until enrolled (the enrolment names its cohort).
NEW_ROWS_CHANGE_NO_PLAN = frozenset({"person"})
_ORM_FLUSH = "plan_cache.orm_flush"
_FIRED_SINCE = text("SELECT rowid, key FROM fired_event WHERE rowid > :upto")
_FIRED_DELETE = "DELETE FROM fired_event"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# The table a raw write names (INSERT INTO t, UPDATE t, DELETE FROM t, REPLACE INTO t).
_RAW_TABLE = re.compile(
    r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+(\"?\w+\"?)", re.IGNORECASE
)


class PlanCache:
    def __init__(self, sync_engine: Any, *, watch_other_processes: bool) -> None:
        self._plans: dict[int, list[PlannedEvent]] = {}
        self._merged: tuple[list[int], list[PlannedEvent]] | None = None
        # Every fired event's key, read incrementally by rowid (fired_event is append-only here;
        # a DELETE or another process's commit makes it read afresh).
        self._fired: set[str] = set()
        self._fired_upto = 0
        self._day: date | None = None
        self._data_version: int | None = None
        self._engine = sync_engine
        event.listen(sync_engine, "after_cursor_execute", self._after_execute)
        event.listen(Session, "before_flush", self._before_flush)
        event.listen(Session, "after_flush_postexec", self._after_flush)
        if watch_other_processes:
            event.listen(sync_engine, "begin", self._check_other_writers)

    def get(self, cohort_id: int, today: date) -> list[PlannedEvent] | None:
        if today != self._day:
            self._plans.clear()
            self._day = today
        return self._plans.get(cohort_id)

    def put(self, cohort_id: int, events: list[PlannedEvent]) -> None:
        self._plans[cohort_id] = events

    def forget_all(self) -> None:
        self._plans.clear()
        self._forget_fired()

    def merged(self, cohort_ids: list[int], replanned: bool) -> list[PlannedEvent] | None:
        """The merged plan of these cohorts, if none was replanned since it was merged."""
        if replanned or self._merged is None or self._merged[0] != cohort_ids:
            return None
        return self._merged[1]

    def put_merged(self, cohort_ids: list[int], events: list[PlannedEvent]) -> None:
        self._merged = (cohort_ids, events)

    async def fired_keys(self, session: AsyncSession) -> set[str]:
        """The keys of every event fired (or skipped) so far."""
        rows = await session.execute(_FIRED_SINCE, {"upto": self._fired_upto})
        for rowid, key in rows:
            self._fired.add(key)
            self._fired_upto = max(self._fired_upto, rowid)
        return self._fired

    def _forget_fired(self) -> None:
        self._fired, self._fired_upto = set(), 0

    def _check_other_writers(self, conn: Connection) -> None:
        version = conn.exec_driver_sql("PRAGMA data_version").scalar()
        if version != self._data_version:
            self._data_version = version
            self._plans.clear()
            self._forget_fired()

    def _before_flush(self, session: Session, _flush: Any, _instances: Any) -> None:
        """The ORM knows each row's cohort, before and after the change: forget only theirs."""
        if session.bind is not self._engine:
            return
        session.connection().info[_ORM_FLUSH] = True  # its statements are accounted for here
        if not self._plans:
            return
        for obj, is_new in [(o, True) for o in session.new] + [
            (o, False) for o in (*session.dirty, *session.deleted)
        ]:
            cohorts = _cohorts_of(obj, is_new=is_new)
            if cohorts is None:
                self._plans.clear()
                return
            for cohort_id in cohorts:
                self._plans.pop(cohort_id, None)

    def _after_flush(self, session: Session, _flush: Any) -> None:
        if session.bind is self._engine:
            session.connection().info.pop(_ORM_FLUSH, None)

    def _after_execute(
        self, conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if statement.startswith(_FIRED_DELETE):
            self._forget_fired()
        if not self._plans or conn.info.get(_ORM_FLUSH):
            return
        compiled = getattr(context, "compiled", None)
        if compiled is None or not (context.isinsert or context.isupdate or context.isdelete):
            if statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):  # raw SQL: which cohorts?
                written = _RAW_TABLE.match(statement)
                if written is None or written.group(1).strip('"').lower() not in NOT_PLAN_INPUTS:
                    self._plans.clear()
            return
        table = getattr(compiled.statement, "table", None)
        name = getattr(table, "name", None)
        if name in NOT_PLAN_INPUTS:
            return
        cohorts = _cohorts_named(name, context.compiled_parameters, updating=bool(context.isupdate))
        if cohorts is None:
            self._plans.clear()
        else:
            for cohort_id in cohorts:
                self._plans.pop(cohort_id, None)


def _cohorts_of(obj: Any, *, is_new: bool) -> set[int] | None:
    """The cohorts whose plans an ORM change of `obj` may move, or None for all of them."""
    table = getattr(obj, "__tablename__", None)
    if table in NOT_PLAN_INPUTS or (is_new and table in NEW_ROWS_CHANGE_NO_PLAN):
        return set()
    if table == "cohort":
        return {obj.id} if obj.id is not None else set()
    if not hasattr(obj, "cohort_id"):
        return None
    history = inspect(obj).attrs.cohort_id.history
    return {c for c in (*history.added, *history.unchanged, *history.deleted) if isinstance(c, int)}


def _cohorts_named(table: str | None, rows: list[dict[str, Any]], *, updating: bool) -> set[int] | None:
    """The cohorts a write touches, from its parameters, or None when they do not say (then: all).

    An INSERT names its rows' cohort_id; a DELETE or UPDATE only when it is of the cohort row
    itself (bound as `cohort_id`): elsewhere an update's cohort_id is the new value (a row moved
    between cohorts leaves an old one unnamed) and a delete by id names none."""
    if table is None or (updating and table != "cohort"):
        return None
    found: set[int] = set()
    for row in rows:
        value = row.get("cohort_id")
        if not isinstance(value, int) or any(k.startswith("cohort_id_") for k in row):
            return None
        found.add(value)
    return found
