"""Search keys on properties (normalised USD price, rating, rank) and the exchange-rate table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:27:53.280098

"""
from alembic import op
import sqlalchemy as sa
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Units per USD at the time of this revision (a frozen copy of app.models.money.DEFAULT_RATES).
RATES = {
    "USD": "1", "EUR": "0.92", "GBP": "0.79", "JPY": "150", "CAD": "1.36", "AUD": "1.52", "CHF": "0.88",
    "SEK": "10.5", "NOK": "10.6", "DKK": "6.9", "MXN": "17.1", "BRL": "5.0", "INR": "83.2", "KRW": "1330",
    "SGD": "1.34", "NZD": "1.64",
}
MINOR_UNITS = {"JPY": 0, "KRW": 0}


def _normalise_existing_prices():
    properties = sa.table('properties', sa.column('id', sa.Integer), sa.column('currency', sa.String),
                          sa.column('price_per_night_amount', sa.Integer), sa.column('price_usd_micros', sa.BigInteger))
    bind = op.get_bind()
    rows = bind.execute(sa.select(properties.c.id, properties.c.currency, properties.c.price_per_night_amount)).all()
    for listing_id, currency, amount in rows:
        major = Decimal(amount).scaleb(-MINOR_UNITS.get(currency, 2))
        micros = int((major / Decimal(RATES.get(currency, "1")) * 10**6).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        bind.execute(properties.update().where(properties.c.id == listing_id).values(price_usd_micros=micros))


def upgrade():
    op.create_table('exchange_rates',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('rate > 0', name=op.f('ck_exchange_rates_rate_positive')),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_exchange_rates'))
    )
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_usd_micros', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rating_score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rank_score', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_properties_status_price', ['status', 'price_usd_micros'], unique=False)
        batch_op.create_index('ix_properties_status_rank', ['status', 'rank_score'], unique=False)
        batch_op.create_index('ix_properties_status_rating', ['status', 'rating_score', 'rating_count'], unique=False)
        batch_op.create_index('ix_properties_status_nights', ['status', 'min_nights', 'max_nights'], unique=False)
        batch_op.create_index('ix_properties_status_state', ['status', 'state'], unique=False)
    with op.batch_alter_table('properties', schema=None) as batch_op:  # the defaults only served existing rows
        for column in ('price_usd_micros', 'rating_score', 'rank_score'):
            batch_op.alter_column(column, server_default=None)

    rates = sa.table('exchange_rates', sa.column('currency', sa.String), sa.column('rate', sa.Numeric),
                     sa.column('updated_at', sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(rates, [{'currency': code, 'rate': Decimal(rate), 'updated_at': now} for code, rate in RATES.items()])
    _normalise_existing_prices()



def downgrade():
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.drop_index('ix_properties_status_state')
        batch_op.drop_index('ix_properties_status_nights')
        batch_op.drop_index('ix_properties_status_rating')
        batch_op.drop_index('ix_properties_status_rank')
        batch_op.drop_index('ix_properties_status_price')
        batch_op.drop_column('rank_score')
        batch_op.drop_column('rating_score')
        batch_op.drop_column('price_usd_micros')
    op.drop_table('exchange_rates')
