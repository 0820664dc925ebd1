"""meeting attendance: record source and meeting event, meeting links

Revision ID: 0102_meetings
Revises: 0101_evidence
Create Date: 2026-11-27 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0102_meetings"
down_revision: str | Sequence[str] | None = "0101_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_meeting_link",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("meeting_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("join_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["linked_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["live_session.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("attendance_meeting_link", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_meeting_link_thread", ["thread_id"], unique=False)

    with op.batch_alter_table("attendance_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), server_default="click", nullable=False)
        )
        batch_op.add_column(sa.Column("meeting_event", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attendance_record", schema=None) as batch_op:
        batch_op.drop_column("meeting_event")
        batch_op.drop_column("source")

    with op.batch_alter_table("attendance_meeting_link", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_meeting_link_thread")

    op.drop_table("attendance_meeting_link")
