"""Reminder channels per participant and Web Push subscriptions

A participant's reminders go through the channels they chose, in order (push first, SMS
when no push subscription is active or the push service refuses). The outbox row carries
its channel, and a row sent on another channel because the chosen one could not deliver
points at the row it replaces (`fallback_of_id`), so the message log shows each channel's
outcome. A push subscription (per participant and device) holds the push service's
endpoint and the browser's keys, encrypted like other contact data; `endpoint_lookup`
(a keyed hash) lets the same device subscribe again without a duplicate.

Revision ID: 0018_h18push
Revises: 0017_h20dash
Create Date: 2026-12-05 01:30:00
"""

import sqlalchemy as sa

import pro_server.db
from alembic import op

revision = '0018_h18push'
down_revision = '0017_h20dash'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participant') as batch:
        batch.add_column(sa.Column('reminder_channels', sa.String(length=40), nullable=False,
                                   server_default='sms'))
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('fallback_of_id', sa.Integer(), nullable=True))
    op.create_table(
        'push_subscription',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('participant_id', sa.Integer(), sa.ForeignKey('participant.id'),
                  nullable=False, index=True),
        sa.Column('endpoint', sa.Text(), nullable=False),
        sa.Column('endpoint_lookup', sa.String(length=64), nullable=False, unique=True),
        sa.Column('p256dh', sa.Text(), nullable=False),
        sa.Column('auth', sa.Text(), nullable=False),
        sa.Column('device_label', sa.String(length=80), nullable=True),
        sa.Column("created_at", pro_server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", pro_server.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('push_subscription')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('fallback_of_id')
    with op.batch_alter_table('participant') as batch:
        batch.drop_column('reminder_channels')
