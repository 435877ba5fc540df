"""Search keys: held nights and amenities on the listing row, and property_places for location search.

Search checks a stay against `properties.held_nights` and amenities against `properties.amenity_mask` instead of
probing night_holds and property_amenities once per candidate (listings/holds.py), and finds a location in one
index range of property_places instead of an OR over city, state and country. The upgrade fills all three from
the existing rows. The city, state, country and nights indexes of properties go: search no longer uses them,
and MariaDB chose the nights index over better ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:39:30.211099

"""
import unicodedata
from collections import defaultdict
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa
from babel import Locale


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _fill_search_keys():
    bind = op.get_bind()
    properties = sa.table('properties', sa.column('id', sa.Integer), sa.column('amenity_mask', sa.BigInteger),
                          sa.column('held_from', sa.Date), sa.column('held_nights', sa.String))
    links = sa.table('property_amenities', sa.column('property_id', sa.Integer), sa.column('amenity_id', sa.Integer))
    holds = sa.table('night_holds', sa.column('property_id', sa.Integer), sa.column('night', sa.Date))
    masks = defaultdict(int)
    for listing_id, amenity_id in bind.execute(sa.select(links.c.property_id, links.c.amenity_id)):
        if 1 <= amenity_id <= 62:
            masks[listing_id] |= 1 << (amenity_id - 1)
    start = date.today() - timedelta(days=1)  # as listings/holds.py: from yesterday
    held = defaultdict(set)
    for listing_id, night in bind.execute(sa.select(holds.c.property_id, holds.c.night).where(holds.c.night >= start)):
        held[listing_id].add((night - start).days)
    for listing_id in set(masks) | set(held):
        offsets = held.get(listing_id, ())
        string = "".join("1" if day in offsets else "0" for day in range(max(offsets) + 1)) if offsets else ""
        bind.execute(properties.update().where(properties.c.id == listing_id)
                     .values(amenity_mask=masks.get(listing_id, 0), held_from=start, held_nights=string))


COPIED = ("property_type", "max_guests", "min_nights", "max_nights", "instant_book", "price_usd_micros",
          "amenity_mask", "rank_score", "rating_score", "rating_count", "held_from", "held_nights")


def _place_key(text):
    """app.geo.place_key at this revision: case-folded, marks removed, at most 100 characters."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))[:100]


def _fill_places():
    """Rows of active listings as app.geo.search_places gave them at this revision (city, state and country
    name in lower case, matched by prefix; the ISO code whole), with the copied filter columns."""
    bind = op.get_bind()
    countries = Locale("en").territories
    properties = sa.table('properties', *(sa.column(name) for name in ('id', 'status', 'city', 'state', 'country')),
                          *(sa.column(name) for name in COPIED))
    places = sa.table('property_places', sa.column('kind'), sa.column('place'), sa.column('property_id'),
                      *(sa.column(name) for name in COPIED))
    rows = []
    for listing in bind.execute(sa.select(properties).where(properties.c.status == 'active')).mappings():
        copied = {name: listing[name] for name in COPIED}
        names = zip(("city", "state", "country"),
                    (listing['city'], listing['state'], countries.get(listing['country'], listing['country'])),
                    strict=True)
        keys = {(kind, _place_key(name)) for kind, name in names}
        rows += [{"kind": kind, "place": key, "property_id": listing['id'], **copied} for kind, key in sorted(keys)
                 if key]
        rows.append({"kind": "code", "place": listing['country'].lower(), "property_id": listing['id'], **copied})
    if rows:
        bind.execute(places.insert(), rows)


def upgrade():
    op.create_table('property_places',
    sa.Column('kind', sa.String(length=7), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('property_type', sa.String(length=20), nullable=False),
    sa.Column('max_guests', sa.Integer(), nullable=False),
    sa.Column('min_nights', sa.Integer(), nullable=False),
    sa.Column('max_nights', sa.Integer(), nullable=False),
    sa.Column('instant_book', sa.Boolean(), nullable=False),
    sa.Column('price_usd_micros', sa.BigInteger(), nullable=False),
    sa.Column('amenity_mask', sa.BigInteger(), nullable=False),
    sa.Column('rank_score', sa.Integer(), nullable=False),
    sa.Column('rating_score', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('held_from', sa.Date(), nullable=False),
    sa.Column('held_nights', sa.String(length=1200), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_property_places_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'place', 'property_id', name=op.f('pk_property_places'))
    )
    with op.batch_alter_table('property_places', schema=None) as batch_op:
        batch_op.create_index('ix_property_places_property_id', ['property_id'], unique=False)

    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amenity_mask', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('held_from', sa.Date(), server_default='2000-01-01', nullable=False))
        batch_op.add_column(sa.Column('held_nights', sa.String(length=1200), server_default='', nullable=False))
        batch_op.drop_index(batch_op.f('ix_properties_status_city'))
        batch_op.drop_index(batch_op.f('ix_properties_status_country'))
        batch_op.drop_index(batch_op.f('ix_properties_status_nights'))
        batch_op.drop_index(batch_op.f('ix_properties_status_state'))
    _fill_search_keys()
    _fill_places()


def downgrade():
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_properties_status_state'), ['status', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_properties_status_nights'), ['status', 'min_nights', 'max_nights'], unique=False)
        batch_op.create_index(batch_op.f('ix_properties_status_country'), ['status', 'country'], unique=False)
        batch_op.create_index(batch_op.f('ix_properties_status_city'), ['status', 'city'], unique=False)
        batch_op.drop_column('held_nights')
        batch_op.drop_column('held_from')
        batch_op.drop_column('amenity_mask')

    op.drop_table('property_places')
