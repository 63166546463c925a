"""reputation tallies: facts counted per target, day and marks

Counted here from the facts 0013 added (a database whose facts are not built yet has none to count;
building a shop counts its own).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reputationtally',
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('once', sa.Boolean(), nullable=False),
    sa.Column('dup', sa.Boolean(), nullable=False),
    sa.Column('professional', sa.Boolean(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'target_id', 'day', 'removed', 'once', 'dup', 'professional')
    )
    with op.batch_alter_table('reputationtally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reputationtally_shop_id'), ['shop_id'], unique=False)
    for scope, target, dup in (("shop", "shop_id", "dup_shop"), ("listing", "listing_id", "dup_listing")):
        op.execute(
            "INSERT INTO reputationtally (scope, target_id, day, removed, once, dup, professional, shop_id, n, rating_sum) "
            f"SELECT '{scope}', {target}, day, removed, once, {dup}, professional, MIN(shop_id), COUNT(*), SUM(rating) "
            f"FROM reputationfact WHERE {target} IS NOT NULL "
            f"GROUP BY {target}, day, removed, once, {dup}, professional"
        )



def downgrade() -> None:
    with op.batch_alter_table('reputationtally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reputationtally_shop_id'))

    op.drop_table('reputationtally')
