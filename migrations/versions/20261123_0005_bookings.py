"""Bookings (price frozen at creation, status, payment, refund) and the idempotency keys of their creation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:21:16.909397

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('guest_id', sa.Integer(), nullable=False),
    sa.Column('check_in', sa.Date(), nullable=False),
    sa.Column('check_out', sa.Date(), nullable=False),
    sa.Column('nights', sa.Integer(), nullable=False),
    sa.Column('guests', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('nightly_amount', sa.Integer(), nullable=False),
    sa.Column('cleaning_fee_amount', sa.Integer(), nullable=False),
    sa.Column('service_fee_amount', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Integer(), nullable=False),
    sa.Column('cancellation_policy', sa.String(length=10), nullable=False),
    sa.Column('instant_book', sa.Boolean(), nullable=False),
    sa.Column('paid_amount', sa.Integer(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('canceled_at', sa.DateTime(), nullable=True),
    sa.Column('canceled_by', sa.String(length=10), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('refund_amount', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('check_out > check_in', name=op.f('ck_bookings_dates_in_order')),
    sa.CheckConstraint('total_amount = nightly_amount + cleaning_fee_amount + service_fee_amount', name=op.f('ck_bookings_total_adds_up')),
    sa.ForeignKeyConstraint(['guest_id'], ['users.id'], name=op.f('fk_bookings_guest_id_users')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_bookings_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_guest_check_in', ['guest_id', 'check_in'], unique=False)
        batch_op.create_index('ix_bookings_property_check_in', ['property_id', 'check_in'], unique=False)
        batch_op.create_index('ix_bookings_status_check_out', ['status', 'check_out'], unique=False)
        batch_op.create_index('ix_bookings_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_idempotency_keys_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key_hash', name='uq_idempotency_keys_user_key_hash')
    )


def downgrade():
    op.drop_table('idempotency_keys')
    op.drop_table('bookings')
