"""Sign-in identities at outside providers (oauth_identities): Google and Facebook accounts linked to users.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:16:21.885632

One row per (provider, subject): the unique key is what keeps two simultaneous first sign-ins of one person from
creating two accounts. subject compares exactly (binary collation on MariaDB), as providers' ids are opaque.
Downgrade drops the table; the users it linked keep their accounts (those without a password sign in again after a
password reset).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    subject = sa.String(length=255).with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=255), 'mariadb') \
        .with_variant(mysql.VARCHAR(collation='utf8mb4_bin', length=255), 'mysql')
    op.create_table(
        'oauth_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('subject', subject, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_identities_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_identities')),
        sa.UniqueConstraint('provider', 'subject', name=op.f('uq_oauth_identities_provider')),
    )
    with op.batch_alter_table('oauth_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_identities_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('oauth_identities')
