"""staff accounts as a regulated system needs them; unmatched replies show a masked number

staff_user: per-account lockout (failed_logins, locked_at), forced password change
(must_change_password, the same name as the admin-bootstrap branch uses), password age,
an optional TOTP second factor (secret encrypted like contact data). study: whether its
admins and investigators must use a second factor. inbound_message: the sender's number
masked, so whoever reviews an unmatched reply can recognise it without the number in clear.

Revision ID: 0011_sec13
Revises: 0010_studies13
Create Date: 2026-12-04 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_sec13'
down_revision = '0010_studies13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('study') as batch:
        batch.add_column(sa.Column('staff_second_factor_required', sa.Boolean(),
                                   nullable=False, server_default=sa.false()))
    with op.batch_alter_table('inbound_message') as batch:
        batch.add_column(sa.Column('from_masked', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_message') as batch:
        batch.drop_column('from_masked')
    with op.batch_alter_table('study') as batch:
        batch.drop_column('staff_second_factor_required')
    with op.batch_alter_table('staff_user') as batch:
        for name in ('totp_last_step', 'totp_enabled_at', 'totp_secret', 'locked_at',
                     'failed_logins', 'password_changed_at', 'must_change_password'):
            batch.drop_column(name)
