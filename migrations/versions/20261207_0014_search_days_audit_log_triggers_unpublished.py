"""Searches per day without Redis (search_days), an audit log the database refuses to rewrite (triggers on
audit_log), and room for the listing status "unpublished" (listings.status VARCHAR(10) -> VARCHAR(12)).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:09:45.952408

search_days holds one row per day (UTC) with the searches answered that day, counted when REDIS_URL is unset
(app/search_stats.py). The triggers fail every UPDATE and DELETE of audit_log: on MariaDB/MySQL with SIGNAL
SQLSTATE '45000' (creating them needs the TRIGGER privilege, and with binary logging on also SUPER or
log_bin_trust_function_creators=1), on SQLite with RAISE(ABORT); TRUNCATE (MariaDB) fires no DELETE trigger and is
left to whoever holds the DROP privilege. The statements are a copy of app/models/audit.py IMMUTABLE_TRIGGERS, which
create_all uses. "unpublished" is 11 characters, one more than the status column held; the change is a metadata
change on MariaDB (the length byte stays one byte) and a table rebuild in batch mode on SQLite.

Downgrade drops the triggers and search_days, and makes every unpublished listing deleted (deleted_at now) before
the column narrows again: the older code knows no other status that keeps a listing out of search and booking.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

REFUSED = "audit_log rows cannot be changed or deleted"
VERBS = ("UPDATE", "DELETE")


def _trigger(verb: str, dialect: str) -> str:
    name = f"audit_log_no_{verb.lower()}"
    if dialect == "sqlite":
        return f"CREATE TRIGGER {name} BEFORE {verb} ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
    return (f"CREATE TRIGGER {name} BEFORE {verb} ON audit_log FOR EACH ROW "
            f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSED}'")


def upgrade():
    op.create_table('search_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('searches', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_search_days'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.alter_column('status',
               existing_type=sa.String(length=10),
               type_=sa.String(length=12),
               existing_nullable=False)
    dialect = op.get_bind().dialect.name
    for verb in VERBS:
        op.execute(_trigger(verb, dialect))


def downgrade():
    for verb in VERBS:
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
    listings = sa.table('listings', sa.column('status', sa.String), sa.column('deleted_at', sa.DateTime))
    op.execute(listings.update().where(listings.c.status == 'unpublished')
               .values(status='deleted', deleted_at=sa.func.current_timestamp()))
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.alter_column('status',
               existing_type=sa.String(length=12),
               type_=sa.String(length=10),
               existing_nullable=False)

    op.drop_table('search_days')
