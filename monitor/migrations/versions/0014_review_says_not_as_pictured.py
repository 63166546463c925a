"""review.says_not_as_pictured: the listing check counts buyers' words with SQL

The column starts NULL: the listing check reads each shop's unread reviews once (the first check
after the upgrade reads them all, as every check did before) and stores the mark.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('says_not_as_pictured', sa.Boolean(), nullable=True))
        batch_op.create_index('ix_review_shop_words', ['shop_id', 'deleted_at', 'says_not_as_pictured', 'listing_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_shop_words')
        batch_op.drop_column('says_not_as_pictured')

