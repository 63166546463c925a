"""listing.image_check_key: lets the post-crawl image check skip unchanged listings

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('listing') as batch:
        batch.add_column(sa.Column('image_check_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('listing') as batch:
        batch.drop_column('image_check_key')
