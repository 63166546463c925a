"""board indexes for the state, owner and shop filters

Revision ID: 0010
Revises: 0009
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The board's (severity, opened_at, id) order under its common filters, so a filtered page
    # and its bounded count read only matching entries.
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_board_owner', ['owner', 'severity', 'opened_at', 'id'], unique=False)
        batch_op.create_index('ix_case_board_shop', ['shop_id', 'severity', 'opened_at', 'id'], unique=False)
        batch_op.create_index('ix_case_board_state', ['state', 'severity', 'opened_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_board_state')
        batch_op.drop_index('ix_case_board_shop')
        batch_op.drop_index('ix_case_board_owner')
