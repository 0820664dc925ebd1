"""languages of people and cohorts

Revision ID: 0101_i18n
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0101_i18n"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("i18n",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("lang_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("cohort") as batch:
        batch.add_column(
            sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="en")
        )


def downgrade() -> None:
    with op.batch_alter_table("cohort") as batch:
        batch.drop_column("lang")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("lang_chosen")
        batch.drop_column("lang")
