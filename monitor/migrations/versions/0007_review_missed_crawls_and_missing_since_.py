"""review missed_crawls and missing_since, crawl run reviews_missing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:19:14.986509
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crawlrun', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviews_missing', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missed_crawls', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('missing_since', models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('missing_since')
        batch_op.drop_column('missed_crawls')

    with op.batch_alter_table('crawlrun', schema=None) as batch_op:
        batch_op.drop_column('reviews_missing')

