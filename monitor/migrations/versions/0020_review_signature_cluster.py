"""reviewsignature: the review's near-duplicate cluster (lowest member id) and link similarity

Detection walked the LSH buckets from every run's new reviews to whole clusters, holding each
cluster's bucket rows and signatures: on stock phrases a cluster grows with everything signed
before it, and a 3M-review catch-up peaked at 2.5 GB in that walk. The cluster is now kept per
signed review and merged as reviews arrive; a run reads its clusters' members by this id.
Signatures stored before have a null similarity (and a partial index finds them at once):
the next detection run clusters them all once.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('reviewsignature', sa.Column('cluster', sa.Integer(), nullable=True))
    op.add_column('reviewsignature', sa.Column('similarity', sa.Float(), nullable=True))
    op.create_index('ix_reviewsignature_cluster', 'reviewsignature', ['cluster'], unique=False)
    op.create_index('ix_reviewsignature_unclustered', 'reviewsignature', ['review_id'], unique=False,
                    sqlite_where=sa.text('similarity IS NULL'), postgresql_where=sa.text('similarity IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_reviewsignature_unclustered', table_name='reviewsignature')
    op.drop_index('ix_reviewsignature_cluster', table_name='reviewsignature')
    op.drop_column('reviewsignature', 'similarity')
    op.drop_column('reviewsignature', 'cluster')
