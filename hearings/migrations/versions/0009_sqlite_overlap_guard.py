"""SQLite refuses overlapping reservations too: triggers doing what PostgreSQL's exclusion
constraint ex_reservations_no_overlap does

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 23:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: The refusal's message names the rule as PostgreSQL's constraint is named, so that one
#: check (hearings.scheduling.conflicts.is_exclusion_violation) knows both.
#: Times are stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text, which sorts as time does.
#: A reservation lasts at most 10 hours (rules.MAX_SESSION_LENGTH), which bounds the scan of
#: ix_reservations_resource_starts.
_GUARD = """
CREATE TRIGGER {name} BEFORE {event} ON reservations
FOR EACH ROW WHEN NEW.active
BEGIN
    SELECT RAISE(ABORT, 'ex_reservations_no_overlap: the resource is reserved at that time')
    WHERE EXISTS (
        SELECT 1 FROM reservations AS other
        WHERE other.resource = NEW.resource
          AND other.active
          AND other.id IS NOT NEW.id
          AND other.starts_at >= datetime(NEW.starts_at, '-10 hours')
          AND other.starts_at < NEW.ends_at
          AND other.ends_at > NEW.starts_at
    );
END
"""


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL has had the exclusion constraint since 0001
    op.execute(_GUARD.format(name="reservations_no_overlap_insert", event="INSERT"))
    op.execute(
        _GUARD.format(
            name="reservations_no_overlap_update",
            event="UPDATE OF resource, starts_at, ends_at, active",
        )
    )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER reservations_no_overlap_update")
    op.execute("DROP TRIGGER reservations_no_overlap_insert")
