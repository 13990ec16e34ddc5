"""direct dispatch: the relay makes a delivery's first POST (and a mail's first send) itself, under
a lease, and hands only the failures to their workflows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        -- Until when a relay holds the row for its first attempt: a relay that dies mid-attempt
        -- leaves it to the next one after that.
        ALTER TABLE webhook_deliveries ADD COLUMN claimed_until timestamptz;
        ALTER TABLE notifications ADD COLUMN claimed_until timestamptz;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE notifications DROP COLUMN claimed_until;
        ALTER TABLE webhook_deliveries DROP COLUMN claimed_until;
        """
    )
