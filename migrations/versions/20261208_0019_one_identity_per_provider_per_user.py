"""One linked account per provider per user: a unique key on oauth_identities (user_id, provider).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-08 02:01:10.542456

Without it a first sign-in with a second Google account whose verified email is the account's could be linked
beside the first, and "unlink Google" would not name one row. Upgrade keeps the oldest link of each provider per
user (only that bug could have made more) and adds the key; downgrade drops the key.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM oauth_identities WHERE id NOT IN (SELECT keep FROM (SELECT MIN(id) AS keep "
                       "FROM oauth_identities GROUP BY user_id, provider) AS kept)"))
    with op.batch_alter_table('oauth_identities', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_oauth_identities_user_id'), ['user_id', 'provider'])


def downgrade():
    with op.batch_alter_table('oauth_identities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_oauth_identities_user_id'), type_='unique')
