"""Users, refresh-token families, the token blocklist and the amenity catalogue.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 12:46:15.693664

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# The catalogue as first shipped (a frozen copy: app code may change, this revision may not).
AMENITIES = [
    ("wifi", "Wi-Fi"), ("kitchen", "Kitchen"), ("parking", "Free parking"), ("pool", "Pool"),
    ("air_conditioning", "Air conditioning"), ("heating", "Heating"), ("washer", "Washer"), ("dryer", "Dryer"),
    ("tv", "TV"), ("workspace", "Dedicated workspace"), ("pets_allowed", "Pets allowed"), ("hot_tub", "Hot tub"),
    ("gym", "Gym"), ("breakfast", "Breakfast"), ("ev_charger", "EV charger"), ("smoke_alarm", "Smoke alarm"),
]


def upgrade():
    op.create_table('amenities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amenities')),
    sa.UniqueConstraint('code', name=op.f('uq_amenities_code'))
    )
    op.bulk_insert(sa.table("amenities", sa.column("code", sa.String), sa.column("name", sa.String)),
                   [{"code": code, "name": name} for code, name in AMENITIES])
    op.create_table('revoked_tokens',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_revoked_tokens'))
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254).with_variant(mysql.VARCHAR(254, collation='utf8mb4_bin'), 'mysql', 'mariadb'), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('avatar_key', sa.String(length=255), nullable=True),
    sa.Column('preferred_currency', sa.String(length=3), nullable=False),
    sa.Column('preferred_language', sa.String(length=10), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('tokens_valid_after', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('refresh_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jti', sa.String(length=36), nullable=False),
    sa.Column('family', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('jti', name=op.f('uq_refresh_tokens_jti'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_refresh_tokens_family', ['family'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)



def downgrade():
    op.drop_table('refresh_tokens')
    op.drop_table('users')
    op.drop_table('revoked_tokens')
    op.drop_table('amenities')
