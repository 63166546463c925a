"""reputation facts: per-review marks and band keys, so a verdict is a grouped count

The tables start empty: the next pipeline run (``shopmon process`` or any crawl) builds every
shop's facts once from its reviews, as the reputation step did on every run before.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reputationband',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('shop_id', 'key', 'review_id'),
    sqlite_with_rowid=False
    )
    op.create_table('reputationshop',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id')
    )
    op.create_table('reputationfact',
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('revision_count', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('professional', sa.Boolean(), nullable=False),
    sa.Column('once', sa.Boolean(), nullable=False),
    sa.Column('dup_shop', sa.Boolean(), nullable=False),
    sa.Column('dup_listing', sa.Boolean(), nullable=False),
    sa.Column('sig', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], ),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.PrimaryKeyConstraint('review_id')
    )
    with op.batch_alter_table('reputationfact', schema=None) as batch_op:
        batch_op.create_index('ix_reputationfact_listing_tally', ['listing_id', 'day', 'removed', 'once', 'dup_listing', 'professional', 'rating'], unique=False)
        batch_op.create_index(batch_op.f('ix_reputationfact_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index('ix_reputationfact_shop_tally', ['shop_id', 'day', 'removed', 'once', 'dup_shop', 'professional', 'rating'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reputationfact', schema=None) as batch_op:
        batch_op.drop_index('ix_reputationfact_shop_tally')
        batch_op.drop_index(batch_op.f('ix_reputationfact_reviewer_id'))
        batch_op.drop_index('ix_reputationfact_listing_tally')

    op.drop_table('reputationfact')
    op.drop_table('reputationshop')
    op.drop_table('reputationband')
