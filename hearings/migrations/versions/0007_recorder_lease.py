"""recorder lease: which recorder process holds a recording, its heartbeat, stop requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("witness_recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorder_holder", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("recorder_heartbeat_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("stop_requested_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("witness_recordings", schema=None) as batch_op:
        batch_op.drop_column("stop_requested_at")
        batch_op.drop_column("recorder_heartbeat_at")
        batch_op.drop_column("recorder_holder")
