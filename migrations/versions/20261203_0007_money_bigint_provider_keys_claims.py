"""Money in BIGINT, random provider keys and claims on payments, refunds and payouts, the booked time zone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:39:47.523518

Existing rows keep the provider keys they were sent with (`abode-payment-<id>` ...), so a retry of a call in flight
still gets the provider's first answer; new rows get random keys. A booking takes its listing's time zone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

AMOUNTS = {
    'bookings': (('nightly_amount', False), ('cleaning_fee_amount', False), ('service_fee_amount', False),
                 ('total_amount', False), ('paid_amount', False), ('refund_amount', True)),
    'payments': (('amount', False), ('refunded_amount', False)),
    'refunds': (('amount', False),),
    'payouts': (('amount', False),),
}
KEYED = {'payments': 'payment', 'refunds': 'refund', 'payouts': 'payout'}


def _widen(table, old, new):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column, nullable in AMOUNTS[table]:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)


def upgrade():
    for table in AMOUNTS:
        _widen(table, sa.Integer(), sa.BigInteger())

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    op.execute("UPDATE bookings SET timezone = (SELECT COALESCE(properties.timezone, 'UTC') FROM properties"
               " WHERE properties.id = bookings.property_id)")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('timezone', existing_type=sa.String(length=64), nullable=False)

    for table, kind in KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('provider_key', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
            if table == 'payments':
                batch_op.add_column(sa.Column('payment_method', sa.String(length=255), nullable=True))
                batch_op.add_column(sa.Column('pays_booking', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
                batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        rows = sa.table(table, sa.column('id', sa.Integer()), sa.column('provider_key', sa.String(64)))
        op.execute(rows.update().values(provider_key=sa.literal(f'abode-{kind}-') + sa.cast(rows.c.id, sa.String(20))))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('provider_key', existing_type=sa.String(length=64), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_provider_key'), ['provider_key'])
    # Before this revision a booking took the first success and refunded any later one at once: the first
    # charged payment of a paid booking is the one that paid it.
    op.execute("UPDATE payments SET pays_booking = 1 WHERE id IN (SELECT id FROM (SELECT MIN(p.id) AS id"
               " FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.paid_amount > 0"
               " AND p.status IN ('succeeded', 'partially_refunded', 'refunded') GROUP BY p.booking_id) AS firsts)")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('pays_booking', existing_type=sa.Boolean(), server_default=None)


def downgrade():
    for table in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_provider_key'), type_='unique')
            batch_op.drop_column('claimed_until')
            batch_op.drop_column('provider_key')
            if table == 'payments':
                batch_op.drop_column('payment_method')
                batch_op.drop_column('pays_booking')
                batch_op.drop_column('closed_at')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('timezone')
    for table in AMOUNTS:
        _widen(table, sa.BigInteger(), sa.Integer())
