"""review signatures and LSH bands for cross-shop near-duplicates

Reviews stored before this revision have no signature: `shopmon detect --rescore` signs them
all (runs over new reviews find near-duplicates only among signed ones).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reviewband',
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'review_id')
    )
    with op.batch_alter_table('reviewband', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewband_review_id'), ['review_id'], unique=False)

    op.create_table('reviewsignature',
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('sig', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_id')
    )


def downgrade() -> None:
    op.drop_table('reviewsignature')
    with op.batch_alter_table('reviewband', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewband_review_id'))

    op.drop_table('reviewband')
