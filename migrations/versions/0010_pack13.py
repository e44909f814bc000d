"""staff accounts can be made to change their password at next sign-in

`pro admin create` sets it on the first admin (whose password was typed at a terminal);
until the account has chosen its own, its session may only change the password.

Revision ID: 0010_pack13
Revises: 0009_merge_features
Create Date: 2026-12-04 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_pack13'
down_revision = '0009_merge_features'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
