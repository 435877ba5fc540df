"""Which provider a host's payout account belongs to (stripe or paypal; the destination stays encrypted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:50:24.455616

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_provider', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('payout_provider')
