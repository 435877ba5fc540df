"""Password reset links (password_resets) and their emails in the outbox (outbox.password_reset_id).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:18:24.573115

A reset row keeps only the SHA-256 of its link's token and the nonce the email derives the token from with the
app's secret, never the token itself. The outbox now carries either a notification's email or a reset link's, so
outbox.notification_id may be NULL. Downgrade deletes the reset emails (they have no notification) and the resets.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_resets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_reset_id', sa.Integer(), nullable=True))
        batch_op.alter_column('notification_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_outbox_password_reset_id'), ['password_reset_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_password_reset_id_password_resets'), 'password_resets',
                                    ['password_reset_id'], ['id'], ondelete='CASCADE')


def downgrade():
    op.execute("DELETE FROM outbox WHERE notification_id IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_password_reset_id_password_resets'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_password_reset_id'))
        batch_op.alter_column('notification_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('password_reset_id')
    op.drop_table('password_resets')
