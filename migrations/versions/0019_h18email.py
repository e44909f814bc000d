"""Email reminders: why a participant's address gets no email

A participant's email address is already stored (encrypted). Email as a reminder channel
needs to know when the address must not be used: the mail server refused it for good
(bounced), refused it as spam/policy (complaint), or the participant unsubscribed with the
one-click link (RFC 8058). `email_flag` says which and `email_flag_at` when; a new address
clears both.

Revision ID: 0019_h18email
Revises: 0018_h18push
Create Date: 2026-12-05 23:40:00
"""

import sqlalchemy as sa

import pro_server.db
from alembic import op

revision = '0019_h18email'
down_revision = '0018_h18push'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participant') as batch:
        batch.add_column(sa.Column('email_flag', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('email_flag_at', pro_server.db.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participant') as batch:
        batch.drop_column('email_flag_at')
        batch.drop_column('email_flag')
