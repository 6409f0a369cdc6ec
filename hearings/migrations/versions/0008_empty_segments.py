"""witness segments may be empty: closed before any media reached them, so no file

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("witness_segments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_witness_segments_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('open', 'closed', 'partial', 'empty', 'lost')"
        )


def downgrade():
    # An empty segment was never a file: before this revision it could only be "lost".
    op.execute("UPDATE witness_segments SET status = 'lost' WHERE status = 'empty'")
    with op.batch_alter_table("witness_segments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_witness_segments_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('open', 'closed', 'partial', 'lost')"
        )
