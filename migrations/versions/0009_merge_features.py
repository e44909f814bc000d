"""one head again: the features' independent branches off 0003 meet here

Messaging (0004), EDC clients (0005), participant web (0006), change requests (0007) and
language approvals (0008) each add their own tables and touch nothing of the others, so
they were written side by side from 0003. This merge gives `alembic upgrade head` (and the
next migration) a single parent.

Revision ID: 0009_merge_features
Revises: 0004_messaging, 0005_edc, 0006_participant_web, 0007_changes,
    0008_language_approvals
Create Date: 2026-11-22 07:30:00
"""

revision = '0009_merge_features'
down_revision = (
    '0004_messaging',
    '0005_edc',
    '0006_participant_web',
    '0007_changes',
    '0008_language_approvals',
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
