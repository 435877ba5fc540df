"""night_holds.booking_id becomes a foreign key to bookings (ON DELETE CASCADE).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 01:20:54.636130

A night held by a booking that does not exist could never be freed by the booking's cancellation and would block
the night for good. Upgrade first deletes such orphans (there should be none: every hold is written in its
booking's transaction), then adds the key. Downgrade drops the key; the column and its index stay.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM night_holds WHERE booking_id IS NOT NULL "
                       "AND booking_id NOT IN (SELECT id FROM bookings)"))
    with op.batch_alter_table('night_holds', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_night_holds_booking_id_bookings'), 'bookings', ['booking_id'],
                                    ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('night_holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_night_holds_booking_id_bookings'), type_='foreignkey')
