"""courts.calendar_version: changed by the database whenever a court's hours or closures change

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: The tables of a court's calendar; any row written there gives the court a new version.
TABLES = ("working_hours", "court_closures")


def upgrade():
    with op.batch_alter_table("courts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar_version", sa.BigInteger(), server_default="0", nullable=False)
        )
    # A random new version (not a counter): a version seen inside a transaction that is then
    # rolled back never comes back meaning something else.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION courts_calendar_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "UPDATE courts SET calendar_version = floor(random() * 9007199254740991)::bigint "
            "WHERE id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.court_id END, "
            "CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.court_id END); "
            "RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_calendar_changed AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION courts_calendar_changed()"
            )
    else:
        for table in TABLES:
            for verb, rows in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "OLD,NEW")):
                ids = ", ".join(f"{row}.court_id" for row in rows.split(","))
                op.execute(
                    f"CREATE TRIGGER {table}_{verb.lower()}_calendar_changed AFTER {verb} "
                    f"ON {table} BEGIN UPDATE courts SET calendar_version = random() "
                    f"WHERE id IN ({ids}); END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_calendar_changed ON {table}")
        op.execute("DROP FUNCTION courts_calendar_changed()")
    else:
        for table in TABLES:
            for verb in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_{verb}_calendar_changed")
    with op.batch_alter_table("courts", schema=None) as batch_op:
        batch_op.drop_column("calendar_version")
