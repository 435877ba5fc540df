"""Listings, their photos and amenities, and the nightly calendar (night_holds, night_prices).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:06:26.609034

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('properties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('property_type', sa.String(length=20), nullable=False),
    sa.Column('address_line1', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6, asdecimal=False), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6, asdecimal=False), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_per_night_amount', sa.Integer(), nullable=False),
    sa.Column('cleaning_fee_amount', sa.Integer(), nullable=False),
    sa.Column('max_guests', sa.Integer(), nullable=False),
    sa.Column('bedrooms', sa.Integer(), nullable=False),
    sa.Column('beds', sa.Integer(), nullable=False),
    sa.Column('bathrooms', sa.Integer(), nullable=False),
    sa.Column('min_nights', sa.Integer(), nullable=False),
    sa.Column('max_nights', sa.Integer(), nullable=False),
    sa.Column('cancellation_policy', sa.String(length=10), nullable=False),
    sa.Column('instant_book', sa.Boolean(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cleaning_fee_amount >= 0', name=op.f('ck_properties_cleaning_fee_non_negative')),
    sa.CheckConstraint('min_nights >= 1 AND max_nights >= min_nights', name=op.f('ck_properties_nights_range')),
    sa.CheckConstraint('price_per_night_amount >= 0', name=op.f('ck_properties_price_non_negative')),
    sa.ForeignKeyConstraint(['host_id'], ['users.id'], name=op.f('fk_properties_host_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_properties'))
    )
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.create_index('ix_properties_host_status', ['host_id', 'status'], unique=False)
        batch_op.create_index('ix_properties_status_city', ['status', 'city'], unique=False)
        batch_op.create_index('ix_properties_status_country', ['status', 'country'], unique=False)
        batch_op.create_index('ix_properties_status_lat_lng', ['status', 'latitude', 'longitude'], unique=False)

    op.create_table('night_holds',
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_night_holds_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('property_id', 'night', name=op.f('pk_night_holds'))
    )
    with op.batch_alter_table('night_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_night_holds_booking_id'), ['booking_id'], unique=False)

    op.create_table('night_prices',
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_night_prices_amount_non_negative')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_night_prices_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('property_id', 'night', name=op.f('pk_night_prices'))
    )
    op.create_table('property_amenities',
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('amenity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['amenity_id'], ['amenities.id'], name=op.f('fk_property_amenities_amenity_id_amenities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_property_amenities_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('property_id', 'amenity_id', name=op.f('pk_property_amenities'))
    )
    with op.batch_alter_table('property_amenities', schema=None) as batch_op:
        batch_op.create_index('ix_property_amenities_amenity_id', ['amenity_id'], unique=False)

    op.create_table('property_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=255), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_property_images_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_images'))
    )
    with op.batch_alter_table('property_images', schema=None) as batch_op:
        batch_op.create_index('ix_property_images_property_position', ['property_id', 'position'], unique=False)



def downgrade():
    op.drop_table('property_images')
    op.drop_table('property_amenities')
    op.drop_table('night_prices')
    op.drop_table('night_holds')
    op.drop_table('properties')
