"""completion: xAPI statements keep who they are about and what voids them; LMS user ids per person

Revision ID: 0101_lms
Revises: 0008_completion
Create Date: 2026-11-27 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0101_lms"
down_revision: str | Sequence[str] | None = "0008_completion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lms_account",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("lms_user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    with op.batch_alter_table("lms_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_account_lms_user_id"), ["lms_user_id"], unique=True)

    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("voids", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_xapi_statement_actor_key"), ["actor_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_xapi_statement_voids"), ["voids"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xapi_statement_voids"))
        batch_op.drop_index(batch_op.f("ix_xapi_statement_actor_key"))
        batch_op.drop_column("voided")
        batch_op.drop_column("voids")
        batch_op.drop_column("actor_key")
    with op.batch_alter_table("lms_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_account_lms_user_id"))
    op.drop_table("lms_account")
