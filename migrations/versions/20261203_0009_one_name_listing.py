"""One name for one thing: properties become listings (tables, property_id columns, index and constraint names).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:12:41.208113

Tables properties, property_images, property_amenities and property_places become listings, listing_images,
listing_amenities and listing_places; every property_id column (bookings, night_holds, night_prices and the
three child tables) becomes listing_id; the indexes and the primary, foreign-key and check constraints take the
names the models' naming convention (app/extensions.py) gives them. Rows are kept: on MariaDB/MySQL everything is
a rename in place (foreign keys are dropped first and created again under their new names); SQLite renames the
tables and rebuilds each table in batch mode. The JSON API keeps saying property_id: only the schema changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = (('properties', 'listings'), ('property_images', 'listing_images'),
          ('property_amenities', 'listing_amenities'), ('property_places', 'listing_places'))
# Tables (by their new name) whose property_id column becomes listing_id.
COLUMN_TABLES = ('bookings', 'night_holds', 'night_prices', 'listing_images', 'listing_amenities', 'listing_places')
# (table, old name, new name, columns before, columns after)
INDEXES = (
    ('listings', 'ix_properties_host_status', 'ix_listings_host_status', ['host_id', 'status'], None),
    ('listings', 'ix_properties_status_lat_lng', 'ix_listings_status_lat_lng', ['status', 'latitude', 'longitude'],
     None),
    ('listings', 'ix_properties_status_price', 'ix_listings_status_price', ['status', 'price_usd_micros'], None),
    ('listings', 'ix_properties_status_rank', 'ix_listings_status_rank', ['status', 'rank_score'], None),
    ('listings', 'ix_properties_status_rating', 'ix_listings_status_rating',
     ['status', 'rating_score', 'rating_count'], None),
    ('listing_amenities', 'ix_property_amenities_amenity_id', 'ix_listing_amenities_amenity_id', ['amenity_id'],
     None),
    ('listing_images', 'ix_property_images_property_position', 'ix_listing_images_listing_position',
     ['property_id', 'position'], ['listing_id', 'position']),
    ('listing_places', 'ix_property_places_property_id', 'ix_listing_places_listing_id', ['property_id'],
     ['listing_id']),
    ('bookings', 'ix_bookings_property_check_in', 'ix_bookings_listing_check_in', ['property_id', 'check_in'],
     ['listing_id', 'check_in']),
)
# (table, old name, new name, column before, column after, referred table before, after, ondelete)
FOREIGN_KEYS = (
    ('listings', 'fk_properties_host_id_users', 'fk_listings_host_id_users', 'host_id', 'host_id',
     'users', 'users', None),
    ('listing_amenities', 'fk_property_amenities_amenity_id_amenities', 'fk_listing_amenities_amenity_id_amenities',
     'amenity_id', 'amenity_id', 'amenities', 'amenities', 'CASCADE'),
    ('bookings', 'fk_bookings_property_id_properties', 'fk_bookings_listing_id_listings', 'property_id',
     'listing_id', 'properties', 'listings', None),
) + tuple(
    (table, f'fk_{old}_property_id_properties', f'fk_{table}_listing_id_listings', 'property_id', 'listing_id',
     'properties', 'listings', 'CASCADE')
    for old, table in (('night_holds', 'night_holds'), ('night_prices', 'night_prices'),
                       ('property_images', 'listing_images'), ('property_amenities', 'listing_amenities'),
                       ('property_places', 'listing_places'))
)
# (table, old name, new name, condition)
CHECKS = tuple(
    ('listings', f'ck_properties_{name}', f'ck_listings_{name}', condition)
    for name, condition in (('price_non_negative', 'price_per_night_amount >= 0'),
                            ('cleaning_fee_non_negative', 'cleaning_fee_amount >= 0'),
                            ('nights_range', 'min_nights >= 1 AND max_nights >= min_nights'))
)
# Named primary keys (SQLite keeps the names; MariaDB calls every primary key PRIMARY).
PRIMARY_KEYS = (
    ('listings', 'pk_properties', 'pk_listings', ['id'], None),
    ('listing_images', 'pk_property_images', 'pk_listing_images', ['id'], None),
    ('listing_amenities', 'pk_property_amenities', 'pk_listing_amenities', ['property_id', 'amenity_id'],
     ['listing_id', 'amenity_id']),
    ('listing_places', 'pk_property_places', 'pk_listing_places', ['kind', 'place', 'property_id'],
     ['kind', 'place', 'listing_id']),
)


def _steps(forward):
    """The renames in the direction asked: table renames, the column rename, then the index, foreign-key, check and
    primary-key entries as (table, from, to, ...). Entries always name their table as the new schema does."""
    tables = TABLES if forward else tuple((new, old) for old, new in TABLES)
    column = ('property_id', 'listing_id') if forward else ('listing_id', 'property_id')

    def flip(entries):
        return entries if forward else tuple(_swap(entry) for entry in entries)

    return tables, column, flip(INDEXES), flip(FOREIGN_KEYS), flip(CHECKS), flip(PRIMARY_KEYS)


def _swap(entry):
    """An entry of INDEXES/FOREIGN_KEYS/CHECKS/PRIMARY_KEYS read backwards (new -> old)."""
    table, old, new, *rest = entry
    if len(rest) == 2 and isinstance(rest[0], list):  # index or primary key: columns before, after
        before, after = rest
        return (table, new, old, after or before, before if after else None)
    if len(rest) == 1:  # check
        return (table, new, old, rest[0])
    col_before, col_after, ref_before, ref_after, ondelete = rest
    return (table, new, old, col_after, col_before, ref_after, ref_before, ondelete)


def _cols(before, after):
    return after or before


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite(forward=True)
    else:
        _in_place(forward=True)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite(forward=False)
    else:
        _in_place(forward=False)


def _old_table(new_table, forward):
    """A table's name before this direction's table renames, from its name in the new schema."""
    if forward:
        return {new: old for old, new in TABLES}.get(new_table, new_table)
    return new_table


def _final_table(new_table, forward):
    """A table's name after this direction's table renames, from its name in the new schema."""
    if forward:
        return new_table
    return {new: old for old, new in TABLES}.get(new_table, new_table)


def _in_place(forward):
    """MariaDB/MySQL: drop the foreign keys, rename tables, columns, indexes and checks, add the keys back."""
    tables, (col_from, col_to), indexes, fks, checks, _pks = _steps(forward)
    for table, old, _new, *_rest in fks:
        op.drop_constraint(op.f(old), _old_table(table, forward), type_='foreignkey')
    for old, new in tables:
        op.rename_table(old, new)
    for table in COLUMN_TABLES:
        op.execute(f'ALTER TABLE {_final_table(table, forward)} RENAME COLUMN {col_from} TO {col_to}')
    for table, old, new, *_cols_ in indexes:
        op.execute(f'ALTER TABLE {_final_table(table, forward)} RENAME INDEX {old} TO {new}')
    for table, old, new, condition in checks:
        op.drop_constraint(op.f(old), _final_table(table, forward), type_='check')
        op.create_check_constraint(op.f(new), _final_table(table, forward), sa.text(condition))
    for table, _old, new, _col_before, col_after, _ref_before, ref_after, ondelete in fks:
        op.create_foreign_key(op.f(new), _final_table(table, forward), ref_after, [col_after], ['id'],
                              ondelete=ondelete)


def _sqlite(forward):
    """SQLite: rename the tables, then rebuild each affected table (batch mode): old names out, new names in."""
    tables, (col_from, col_to), indexes, fks, checks, pks = _steps(forward)
    if forward:
        for old, new in tables:
            op.rename_table(old, new)
    every = dict.fromkeys([*COLUMN_TABLES, *(entry[0] for entry in (*indexes, *fks, *checks, *pks))])
    for table in every:
        with op.batch_alter_table(table, schema=None, recreate='always') as batch_op:
            for entry in fks:
                if entry[0] == table:
                    batch_op.drop_constraint(batch_op.f(entry[1]), type_='foreignkey')
            for entry in checks:
                if entry[0] == table:
                    batch_op.drop_constraint(batch_op.f(entry[1]), type_='check')
            for entry in indexes:
                if entry[0] == table:
                    batch_op.drop_index(batch_op.f(entry[1]))
            for entry in pks:
                if entry[0] == table:
                    batch_op.drop_constraint(batch_op.f(entry[1]), type_='primary')
            if table in COLUMN_TABLES:
                batch_op.alter_column(col_from, new_column_name=col_to, existing_type=sa.Integer(),
                                      existing_nullable=False)
        # A second rebuild: alembic's batch cannot yet index a column it renames in the same batch.
        with op.batch_alter_table(table, schema=None, recreate='always') as batch_op:
            for _table, _old, new, before, after in (e for e in pks if e[0] == table):
                batch_op.create_primary_key(batch_op.f(new), _cols(before, after))
            for _table, _old, new, before, after in (e for e in indexes if e[0] == table):
                batch_op.create_index(batch_op.f(new), _cols(before, after), unique=False)
            for _table, _old, new, condition in (e for e in checks if e[0] == table):
                batch_op.create_check_constraint(batch_op.f(new), sa.text(condition))
            for _t, _old, new, _cb, col_after, _rb, ref_after, ondelete in (e for e in fks if e[0] == table):
                batch_op.create_foreign_key(batch_op.f(new), ref_after, [col_after], ['id'], ondelete=ondelete)
    if not forward:
        for old, new in tables:
            op.rename_table(old, new)
