"""Money moved per day and currency (revenue_days), the fee kept counted on each booking, and when each payment
took its money; each booking's city as booked (its listing's); filled from the payments already there (charges on their payment's creation day, refunds and
payouts on the day they went through, fees on the day their booking settled). And the bookings indexes the admin
analytics read alone: (status, check_out, check_in, listing_id, city) for nights booked in a range (it also serves what
(status, check_out) did), (listing_id, check_in, check_out, status) for nights per listing over a long range (and
what (listing_id, check_in) did), (created_at, nights) for bookings and nights per day.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:06:58.072426

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CHARGED = "('succeeded', 'partially_refunded', 'refunded')"


def upgrade():
    op.create_table('revenue_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charged', sa.BigInteger(), nullable=False),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('service_fees', sa.BigInteger(), nullable=False),
    sa.Column('paid_out', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'currency', name=op.f('pk_revenue_days'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_kept_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('city', sa.String(length=100), server_default='', nullable=False))
    op.execute("UPDATE bookings SET city = (SELECT listings.city FROM listings WHERE listings.id = bookings.listing_id)")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_status_stay', ['status', 'check_out', 'check_in', 'listing_id', 'city'],
                              unique=False)
        batch_op.create_index('ix_bookings_listing_stay', ['listing_id', 'check_in', 'check_out', 'status'],
                              unique=False)
        batch_op.create_index('ix_bookings_created_nights', ['created_at', 'nights'], unique=False)
        batch_op.drop_index('ix_bookings_listing_check_in')
        batch_op.drop_index('ix_bookings_status_check_out')
        batch_op.drop_index('ix_bookings_created_at')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charged_at', sa.DateTime(), nullable=True))

    op.execute(f"UPDATE payments SET charged_at = created_at WHERE status IN {CHARGED}")
    left = (f"(SELECT COALESCE(SUM(CASE WHEN p.status IN {CHARGED} THEN p.amount ELSE 0 END), 0)"
            " - COALESCE(SUM(p.refunded_amount), 0) FROM payments p WHERE p.booking_id = bookings.id)")
    op.execute(f"UPDATE bookings SET fee_kept_amount = CASE WHEN service_fee_amount < {left} THEN service_fee_amount"
               f" ELSE {left} END WHERE status IN ('completed', 'canceled')")
    op.execute(f"""
        INSERT INTO revenue_days (day, currency, charged, refunded, service_fees, paid_out)
        SELECT day, currency, SUM(charged), SUM(refunded), SUM(service_fees), SUM(paid_out) FROM (
            SELECT DATE(created_at) AS day, currency, amount AS charged, 0 AS refunded, 0 AS service_fees,
                   0 AS paid_out FROM payments WHERE status IN {CHARGED}
            UNION ALL SELECT DATE(COALESCE(succeeded_at, created_at)), currency, 0, amount, 0, 0 FROM refunds WHERE status = 'succeeded'
            UNION ALL SELECT DATE(COALESCE(completed_at, canceled_at, updated_at)), currency, 0, 0, fee_kept_amount, 0
                      FROM bookings WHERE fee_kept_amount <> 0
            UNION ALL SELECT DATE(COALESCE(paid_at, updated_at)), currency, 0, 0, 0, amount FROM payouts WHERE status = 'paid'
        ) moved GROUP BY day, currency""")


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('charged_at')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_bookings_status_check_out', ['status', 'check_out'], unique=False)
        batch_op.create_index('ix_bookings_listing_check_in', ['listing_id', 'check_in'], unique=False)
        batch_op.drop_index('ix_bookings_created_nights')
        batch_op.drop_index('ix_bookings_listing_stay')
        batch_op.drop_index('ix_bookings_status_stay')
        batch_op.drop_column('city')
        batch_op.drop_column('fee_kept_amount')
    op.drop_table('revenue_days')
